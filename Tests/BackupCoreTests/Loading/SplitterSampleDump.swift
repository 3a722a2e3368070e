/// A plain dump as pg_dump 15 writes it (with `--clean --if-exists --no-owner`, after `RestoreFilterStage`): a
/// function whose body holds COPY- and SET-looking lines, tables (one with 40 rows, one with a quoted name), a
/// matview, a large object, a sequence value, key constraints, indexes, a trigger, a foreign key, a refresh.
enum SplitterSampleDump {
    static let text = #"""
--
-- PostgreSQL database dump
--

\restrict KEY

-- Dumped from database version 15.18
-- Dumped by pg_dump version 15.18

SET statement_timeout = 0;
SET lock_timeout = '300s';
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

DROP TABLE IF EXISTS public.big;
--
-- Name: f(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.f() RETURNS integer
    LANGUAGE plpgsql
    AS $$
begin

SET default_tablespace = 'x';
COPY public.big (id) FROM stdin;
$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: big; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.big (
    id integer NOT NULL,
    note text
);


--
-- Name: Mixed Case; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public."Mixed Case" (
    "Id" integer NOT NULL
);


--
-- Name: small; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.small (
    big_id integer
);


--
-- Name: mv; Type: MATERIALIZED VIEW; Schema: public; Owner: -
--

CREATE MATERIALIZED VIEW public.mv AS
 SELECT count(*) AS count
   FROM public.big
  WITH NO DATA;


--
-- Name: 16400; Type: BLOB; Schema: -; Owner: -
--

SELECT pg_catalog.lo_create('16400');


--
-- Data for Name: Mixed Case; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public."Mixed Case" ("Id") FROM stdin;
1
\.


--
-- Data for Name: big; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.big (id, note) FROM stdin;
1	note 1
2	note 2
3	note 3
4	note 4
5	note 5
6	note 6
7	note 7
8	note 8
9	note 9
10	note 10
11	note 11
12	note 12
13	note 13
14	note 14
15	note 15
16	note 16
17	note 17
18	note 18
19	note 19
20	note 20
21	note 21
22	note 22
23	note 23
24	note 24
25	note 25
26	note 26
27	note 27
28	note 28
29	note 29
30	note 30
31	note 31
32	note 32
33	note 33
34	note 34
35	note 35
36	note 36
37	note 37
38	note 38
39	note 39
40	note 40
\.


--
-- Data for Name: small; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.small (big_id) FROM stdin;
1
\.


--
-- Name: big_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.big_id_seq', 40, true);


--
-- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -
--

BEGIN;

SELECT pg_catalog.lo_open('16400', 131072);
SELECT pg_catalog.lowrite(0, '\x6869');
SELECT pg_catalog.lo_close(0);

COMMIT;

--
-- Name: Mixed Case Mixed Case_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."Mixed Case"
    ADD CONSTRAINT "Mixed Case_pkey" PRIMARY KEY ("Id");


--
-- Name: big big_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.big
    ADD CONSTRAINT big_pkey PRIMARY KEY (id);


--
-- Name: Odd ON idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "Odd ON idx" ON ONLY public."Mixed Case" USING btree ("Id");


--
-- Name: big_note; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX big_note ON public.big USING btree (note);


--
-- Name: big t; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER t BEFORE INSERT ON public.big FOR EACH ROW EXECUTE FUNCTION public.f();


--
-- Name: small small_big_fk; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.small
    ADD CONSTRAINT small_big_fk FOREIGN KEY (big_id) REFERENCES public.big(id);


--
-- Name: mv; Type: MATERIALIZED VIEW DATA; Schema: public; Owner: -
--

REFRESH MATERIALIZED VIEW public.mv;


--
-- PostgreSQL database dump complete
--

\unrestrict KEY

"""#
}
