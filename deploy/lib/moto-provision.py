"""Sets up moto's S3 API started with INITIAL_NO_AUTH_ACTION_COUNT=3: the three unsigned IAM calls (a user, its
inline s3:* policy, its access key), then the bucket, signed with the new key. Prints the key id and the secret.

Used by deploy/quickstart.sh --with-s3 and Benchmarks/run.sh. Usage: moto-provision.py ENDPOINT BUCKET
"""
import json
import sys

import boto3

endpoint, bucket = sys.argv[1], sys.argv[2]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="pgbackup")
iam.put_user_policy(UserName="pgbackup", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="pgbackup")["AccessKey"]
boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
             aws_secret_access_key=key["SecretAccessKey"]).create_bucket(Bucket=bucket)
print(key["AccessKeyId"], key["SecretAccessKey"])
