# shellcheck shell=bash
# Encryption at rest (issue 13): `pgbackup create` with BACKUP_AGE_RECIPIENTS_FILE against the same create without
# it, alternated in the same runs so load hits both alike. Sourced by run.sh; its own block, so the other suites'
# files stay as they are.
# Single quotes are meant: bash -c scripts get their values as arguments, markdown shows backquotes.
# shellcheck disable=SC2016

# encryption_suite: a key pair from age-keygen, then RUNS × (plain create, encrypted create), each into a
# directory of its own; the encrypted file must be age's, hold what its sidecar records, and decrypt to gzip.
encryption_suite() {
    local dir=$WORK/age run name file
    mkdir -p "$dir/keys" "$dir/plain" "$dir/encrypted"
    age-keygen -o "$dir/keys/key.txt" 2>/dev/null
    chmod 0600 "$dir/keys/key.txt"
    age-keygen -y "$dir/keys/key.txt" >"$dir/keys/recipients.txt"
    for ((run = 1; run <= RUNS; run++)); do
        say "create with and without encryption, run $run of $RUNS"
        clear_create_dir "$dir/plain"
        measure pgbackup_create_plain_paired "$dir/plain" -- \
            env BACKUP_DIR="$dir/plain" POSTGRES_DB=bench "$BIN/pgbackup" create -d "benchmark run $run, plain"
        clear_create_dir "$dir/encrypted"
        measure pgbackup_create_age "$dir/encrypted" -- \
            env BACKUP_DIR="$dir/encrypted" POSTGRES_DB=bench BACKUP_AGE_RECIPIENTS_FILE="$dir/keys/recipients.txt" \
            "$BIN/pgbackup" create -d "benchmark run $run, age"
    done
    name=$(find "$dir/encrypted" -maxdepth 1 -name 'backup_*.sql.gz.age' -printf '%f\n' | head -n 1)
    [[ -n $name ]] || die "BACKUP_AGE_RECIPIENTS_FILE made no .sql.gz.age in $dir/encrypted"
    file=$dir/encrypted/$name
    [[ $(head -c 21 "$file") == age-encryption.org/v1 ]] || die "$name does not start with the age header"
    [[ $(sha256sum "$file" | cut -d ' ' -f 1) == "$(sidecar_value "$file.json" sha256)" ]] \
        || die "$name's sha256 is not its sidecar's"
    age -d -i "$dir/keys/key.txt" "$file" | gzip -t || die "$name does not decrypt to a valid gzip file"
}

print_encryption_report() {
    local ratio_age rss_ok
    ratio_age=$(ratio "${R_WALL[pgbackup_create_age]}" "${R_WALL[pgbackup_create_plain_paired]}")
    printf '\n## Encryption (age): create with `BACKUP_AGE_RECIPIENTS_FILE` against the same create without it\n\n'
    printf 'The two creates alternate within each run. Peak RSS is the largest process of the create (pgbackup, or\n'
    printf 'the age child, whichever is bigger).\n\n'
    table_head '`pgbackup create` (plain)'
    row '`pgbackup create` (gzip, plain, in this suite)' pgbackup_create_plain_paired pgbackup_create_plain_paired gzip
    row '`pgbackup create` with `BACKUP_AGE_RECIPIENTS_FILE` (gzip + age)' pgbackup_create_age pgbackup_create_plain_paired gzip
    printf '\n| target | measured | |\n|---|---|---|\n'
    target_row 'create with age ≤ 1.10 × create without (the same run)' "$ratio_age ×" \
        "${R_WALL[pgbackup_create_age]} <= 1.10 * ${R_WALL[pgbackup_create_plain_paired]}"
    rss_ok="${R_RSS[pgbackup_create_age]} <= 64"
    target_row 'create with age: peak RSS ≤ 64 MiB' "${R_RSS[pgbackup_create_age]} MiB" "$rss_ok"
}
