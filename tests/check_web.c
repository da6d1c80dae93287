/*
 * check_web.c - icsentry-web's HTTP API against the real binary over real
 * TLS (certificates from broker/gen-certs.sh, /usr/bin/curl verifying them
 * against the CA), on a central log written through central_log.h.
 *
 * Each test starts its own server on a free port with three accounts
 * (admin, analyst, viewer), so the login rate limit of one test cannot
 * touch another.
 */
#include <check.h>
#include <cJSON.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "broker/clog_evidence.h"
#include "broker/clog_triage.h"
#include "lib/chain.h"
#include "tests/testutil.h"
#include "tests/testutil_broker.h"
#include "tests/testutil_pg.h"

static char dir[256], dbpath[320], users[320], ca[400], crt[400], key[400];
static char jar[320], out[320], evdir[320];
static int port;
static pid_t web = -1;
static struct tp_pg pg;

#define ADMIN_PW	"admin-password-1"
#define ANALYST_PW	"analyst-password-1"
#define VIEWER_PW	"viewer-password-1"
#define XSS_TITLE	"<script>window.__xss=1</script>"
#define XSS_DETAIL	"<img src=x onerror=\"window.__xss=2\">"

/* ---- the log ------------------------------------------------------------ */

static struct central_log *
open_rw(void)
{
	struct central_log *db = NULL;
	char err[256];

	ck_assert_msg(central_log_open(dbpath, CENTRAL_LOG_RDWR,
	    CENTRAL_LOG_SYNC_NORMAL, &db, err, sizeof(err)) == 0, "%s", err);
	/* the triage tables, as the collector makes them at start */
	ck_assert_int_eq(clog_triage_schema(db), 0);
	return db;
}

static void
store(struct central_log *db, const char *json)
{
	struct central_log_alert a;
	enum central_log_stored res;
	char why[256];

	ck_assert_msg(central_log_alert_parse(json, strlen(json), &a, why,
	    sizeof(why)) == 0, "%s: %s", why, json);
	ck_assert_int_eq(central_log_insert(db, &a, json, strlen(json),
	    central_log_now_us(), &res), 0);
	ck_assert_int_eq(res, CENTRAL_LOG_NEW);
	/* as the collector does: file it into its attacker's incident */
	ck_assert_int_eq(clog_incident_add(db, &a, CLOG_INCIDENT_WINDOW_S,
	    NULL), 0);
	central_log_alert_free(&a);
}

/* n alerts of one chain; every third one "low", the others "high". */
static void
fill(struct central_log *db, struct tb_chain *c, int n)
{
	struct tb_alert_spec low = { .severity = "low" };
	int i;

	ck_assert_int_eq(central_log_begin(db), 0);
	for (i = 0; i < n; i++) {
		char *j = tb_chain_next(c, c->next_seq % 3 == 0 ? &low : NULL);

		ck_assert_ptr_nonnull(j);
		store(db, j);
		free(j);
	}
	ck_assert_int_eq(central_log_commit(db), 0);
}

/*
 * The next alert of c with attacker-controlled text in its title and
 * details, the way a Modbus device id or an MQTT topic would bring it.
 */
static char *
xss_alert(struct tb_chain *c)
{
	char ts[CENTRAL_LOG_TIME_LEN], hash[CHAIN_HEX_LEN + 1];
	char *body = NULL, *json = NULL;
	cJSON *o, *d;
	size_t n;

	central_log_format_time(c->base_us + c->next_seq * 1000000, ts);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "agent", c->agent);
	cJSON_AddStringToObject(o, "site", c->site);
	cJSON_AddNumberToObject(o, "seq", (double)c->next_seq);
	cJSON_AddStringToObject(o, "ts", ts);
	cJSON_AddStringToObject(o, "severity", "critical");
	cJSON_AddStringToObject(o, "detector", "mqtt.topic");
	cJSON_AddNullToObject(o, "technique");
	cJSON_AddStringToObject(o, "title", XSS_TITLE);
	cJSON_AddStringToObject(o, "proto", "mqtt");
	d = cJSON_AddObjectToObject(o, "details");
	cJSON_AddStringToObject(d, "topic", XSS_DETAIL);
	cJSON_AddStringToObject(o, "prev_hash", c->prev);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	n = strlen(body);
	ck_assert_int_eq(chain_hash(c->prev, body, n, hash), 0);
	body[n - 1] = '\0';
	ck_assert_int_ge(asprintf(&json, "%s,\"hash\":\"%s\"}", body, hash), 0);
	free(body);
	memcpy(c->prev, hash, sizeof(c->prev));
	c->next_seq++;
	return json;
}

/* ---- the server --------------------------------------------------------- */

static void
add_user(const char *name, const char *role, const char *pw)
{
	char pwfile[340], bin[256];
	char *argv[] = { bin, "--users", users, "--add-user", (char *)name,
	    "--role", (char *)role, NULL };
	struct tu_result r;

	snprintf(pwfile, sizeof(pwfile), "%s/pw", dir);
	ck_assert_int_eq(tu_write_file(pwfile, pw, strlen(pw)), 0);
	tb_build_path(bin, sizeof(bin), "icsentry-web");
	ck_assert_int_eq(tu_run(argv, pwfile, 30000, &r), 0);
	ck_assert_msg(r.exit_code == 0, "add-user: %s", r.err);
	tu_result_free(&r);
	unlink(pwfile);
}

struct resp {
	int	 status;
	char	*body, *hdrs;
	cJSON	*json;
};

static void
resp_free(struct resp *r)
{
	free(r->body);
	free(r->hdrs);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

/*
 * One request with /usr/bin/curl, verifying the server against the CA;
 * the cookie jar of the test is sent and updated when use_jar.  csrf
 * (when not NULL) goes in X-CSRF-Token, data is the body.
 */
static struct resp
http(const char *method, const char *path, bool use_jar, const char *csrf,
    const char *data)
{
	char url[512], hdrfile[340], bodyfile[340], csrfh[128];
	char *argv[32];
	struct tu_result r;
	struct resp p;
	int n = 0;
	size_t len;

	memset(&p, 0, sizeof(p));
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", port, path);
	snprintf(hdrfile, sizeof(hdrfile), "%s/h", dir);
	snprintf(bodyfile, sizeof(bodyfile), "%s/b", dir);
	argv[n++] = "/usr/bin/curl";
	argv[n++] = "-sS";
	argv[n++] = "--max-time";
	argv[n++] = "20";
	argv[n++] = "--cacert";
	argv[n++] = ca;
	argv[n++] = "-X";
	argv[n++] = (char *)method;
	argv[n++] = "-D";
	argv[n++] = hdrfile;
	argv[n++] = "-o";
	argv[n++] = bodyfile;
	argv[n++] = "-w";
	argv[n++] = "%{http_code}";
	if (use_jar) {
		argv[n++] = "-b";
		argv[n++] = jar;
		argv[n++] = "-c";
		argv[n++] = jar;
	}
	if (csrf != NULL) {
		snprintf(csrfh, sizeof(csrfh), "X-CSRF-Token: %s", csrf);
		argv[n++] = "-H";
		argv[n++] = csrfh;
	}
	if (data != NULL) {
		argv[n++] = "-H";
		argv[n++] = "Content-Type: application/json";
		argv[n++] = "--data-binary";
		argv[n++] = (char *)data;
	}
	argv[n++] = url;
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, 30000, &r), 0);
	ck_assert_msg(r.exit_code == 0, "curl %s: %s", path, r.err);
	p.status = atoi(r.out);
	tu_result_free(&r);
	p.body = tb_read_file(bodyfile, &len);
	p.hdrs = tb_read_file(hdrfile, &len);
	ck_assert_ptr_nonnull(p.body);
	ck_assert_ptr_nonnull(p.hdrs);
	p.json = cJSON_Parse(p.body);
	return p;
}

/* Log in as user; the session's CSRF token into csrf (when not NULL). */
static int
login(const char *user, const char *pw, char *csrf, size_t len)
{
	char body[256];
	struct resp r;
	int status;

	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}",
	    user, pw);
	unlink(jar);
	r = http("POST", "/api/login", true, NULL, body);
	status = r.status;
	if (status == 200 && csrf != NULL)
		snprintf(csrf, len, "%s", cJSON_GetStringValue(
		    cJSON_GetObjectItem(r.json, "csrf")));
	resp_free(&r);
	return status;
}

static void
start_web(void)
{
	char bin[256], listen[64], gen[256], outdir[320];
	char *gargv[] = { "/bin/sh", gen, "-H", "localhost,127.0.0.1", outdir,
	    NULL };
	char *argv[] = { bin, "--db", dbpath, "--listen", listen, "--cert",
	    crt, "--key", key, "--users", users, "--poll-ms", "200",
	    "--evidence-dir", evdir, NULL };
	int i;

	tb_src_path(gen, sizeof(gen), "broker/gen-certs.sh");
	snprintf(outdir, sizeof(outdir), "%s/certs", dir);
	ck_assert_int_eq(tb_run(gargv, NULL, 60000), 0);
	snprintf(ca, sizeof(ca), "%s/ca.crt", outdir);
	snprintf(crt, sizeof(crt), "%s/broker.crt", outdir);
	snprintf(key, sizeof(key), "%s/broker.key", outdir);
	port = tb_free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	tb_build_path(bin, sizeof(bin), "icsentry-web");
	web = tb_spawn(argv, out);
	ck_assert_int_gt(web, 0);
	for (i = 0; i < 100 && !tb_port_open(port); i++)
		tb_sleep_ms(50);
	ck_assert_msg(tb_port_open(port), "icsentry-web did not listen");
}

static void
setup_log(bool postgres)
{
	struct central_log *db;
	struct tb_chain c;

	ck_assert_int_eq(tb_tmpdir(dir, sizeof(dir), "web"), 0);
	snprintf(dbpath, sizeof(dbpath), "%s/central.db", dir);
	if (postgres) {
		ck_assert_int_eq(tp_pg_start(&pg), 0);
		ck_assert_int_eq(tp_pg_createdb(&pg, "web"), 0);
		tp_pg_uri(&pg, "web", dbpath, sizeof(dbpath));
	}
	snprintf(users, sizeof(users), "%s/users", dir);
	snprintf(jar, sizeof(jar), "%s/jar", dir);
	snprintf(out, sizeof(out), "%s/web.log", dir);
	snprintf(evdir, sizeof(evdir), "%s/evidence", dir);
	db = open_rw();
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	fill(db, &c, 3);
	central_log_close(db);
	add_user("root", "admin", ADMIN_PW);
	add_user("ana", "analyst", ANALYST_PW);
	add_user("vic", "viewer", VIEWER_PW);
	start_web();
}

static void
setup(void)
{
	setup_log(false);
}

static void
setup_pg(void)
{
	setup_log(true);
}

static void
teardown(void)
{
	int status = -1, stopped, clean;
	char *log;

	/* a clean stop: exit 0, and no sanitizer report in its log */
	stopped = web > 0 ? tb_stop_pid(web, SIGTERM, 10000, &status) : -1;
	web = -1;
	log = tb_read_file(out, NULL);
	clean = stopped == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    log != NULL && strstr(log, "Sanitizer") == NULL &&
	    strstr(log, "runtime error") == NULL;
	if (pg.running)
		tp_pg_cleanup(&pg);
	tb_rmtree(dir);
	ck_assert_msg(clean, "icsentry-web did not stop cleanly (status %d): %s",
	    status, log != NULL ? log : "");
	free(log);
}

/* ---- tests -------------------------------------------------------------- */

static const char *const reads[] = {
	"/api/alerts", "/api/alerts?limit=5", "/api/alerts/stream",
	"/api/alert?id=1&ts_us=1", "/api/agents", "/api/assets",
	"/api/incidents", "/api/stats", "/api/session", "/api/users",
	"/api/alerts/plant-a/gw-01/1/evidence", "/api/nosuch"
};
static const char *const writes[] = {
	"/api/verify", "/api/logout", "/api/alerts/plant-a/gw-01/1/ack",
	"/api/alerts/plant-a/gw-01/1/close", "/api/alerts/plant-a/gw-01/1/note"
};

START_TEST(t_auth_required)
{
	struct resp r;
	size_t i;

	/* no cookie: every endpoint 401, nothing of the log in the body */
	for (i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		r = http("GET", reads[i], false, NULL, NULL);
		ck_assert_msg(r.status == 401, "%s: %d", reads[i], r.status);
		ck_assert(!tu_contains(r.body, "gw-01"));
		resp_free(&r);
	}
	for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		r = http("POST", writes[i], false, NULL, "{}");
		ck_assert_msg(r.status == 401, "%s: %d", writes[i], r.status);
		resp_free(&r);
	}
	/* a made-up session cookie is no session */
	ck_assert_int_eq(tu_write_file(jar, "127.0.0.1\tFALSE\t/\tTRUE\t0\t"
	    "sid\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
	    strlen("127.0.0.1\tFALSE\t/\tTRUE\t0\tsid\t") + 65), 0);
	r = http("GET", "/api/alerts", true, NULL, NULL);
	ck_assert_int_eq(r.status, 401);
	resp_free(&r);

	/* wrong password, unknown user, malformed body: 401 */
	ck_assert_int_eq(login("vic", "wrong-password", NULL, 0), 401);
	ck_assert_int_eq(login("nobody", VIEWER_PW, NULL, 0), 401);
	unlink(jar);
	r = http("POST", "/api/login", true, NULL, "{\"user\":1}");
	ck_assert_int_eq(r.status, 401);
	resp_free(&r);

	/* the right one: 200, the cookie's attributes, then the data */
	r = http("POST", "/api/login", true, NULL,
	    "{\"user\":\"vic\",\"password\":\"" VIEWER_PW "\"}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json,
	    "role")), "viewer");
	ck_assert_int_eq(strlen(cJSON_GetStringValue(cJSON_GetObjectItem(r.json,
	    "csrf"))), 64);
	ck_assert(tu_contains(r.hdrs, "Set-Cookie: sid="));
	ck_assert(tu_contains(r.hdrs, "; Secure; HttpOnly; SameSite=Strict"));
	resp_free(&r);
	r = http("GET", "/api/alerts", true, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "alerts")), 3);
	resp_free(&r);

	/* logout ends the session on the server */
	{
		char csrf[80];

		ck_assert_int_eq(login("vic", VIEWER_PW, csrf, sizeof(csrf)),
		    200);
		r = http("POST", "/api/logout", true, csrf, "{}");
		ck_assert_int_eq(r.status, 200);
		resp_free(&r);
		r = http("GET", "/api/alerts", true, NULL, NULL);
		ck_assert_int_eq(r.status, 401);
		resp_free(&r);
	}
}
END_TEST

START_TEST(t_roles_and_csrf)
{
	char csrf[80], other[80];
	struct resp r;
	cJSON *u;

	/* a viewer reads but cannot triage, even with its CSRF token */
	ck_assert_int_eq(login("vic", VIEWER_PW, csrf, sizeof(csrf)), 200);
	r = http("POST", "/api/alerts/plant-a/gw-01/2/ack", true, csrf, "{}");
	ck_assert_int_eq(r.status, 403);
	ck_assert(tu_contains(r.body, "analyst"));
	resp_free(&r);
	r = http("GET", "/api/users", true, NULL, NULL);
	ck_assert_int_eq(r.status, 403);
	resp_free(&r);

	/* an analyst without the header, or with another session's token */
	ck_assert_int_eq(login("root", ADMIN_PW, other, sizeof(other)), 200);
	ck_assert_int_eq(login("ana", ANALYST_PW, csrf, sizeof(csrf)), 200);
	ck_assert_str_ne(csrf, other);
	r = http("POST", "/api/alerts/plant-a/gw-01/2/ack", true, NULL, "{}");
	ck_assert_int_eq(r.status, 403);
	ck_assert(tu_contains(r.body, "CSRF"));
	resp_free(&r);
	r = http("POST", "/api/alerts/plant-a/gw-01/2/ack", true, other, "{}");
	ck_assert_int_eq(r.status, 403);
	resp_free(&r);
	r = http("POST", "/api/verify", true, NULL, "{}");
	ck_assert_int_eq(r.status, 403);
	resp_free(&r);
	/* with it: acked, by ana, in the audit trail */
	r = http("POST", "/api/alerts/plant-a/gw-01/2/ack", true, csrf, "{}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(tu_json_str(r.json, "triage.state"), "acked");
	ck_assert_str_eq(tu_json_str(r.json, "triage.user"), "ana");
	resp_free(&r);
	r = http("POST", "/api/alerts/plant-a/gw-01/2/note", true, csrf, "{}");
	ck_assert_int_eq(r.status, 400);	/* a note needs text */
	resp_free(&r);
	r = http("POST", "/api/alerts/plant-a/gw-01/2/note", true, csrf,
	    "{\"note\":\"<b>called the plant</b>\"}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(tu_json_str(r.json, "triage.state"), "acked");
	resp_free(&r);
	r = http("POST", "/api/alerts/plant-a/gw-01/99/ack", true, csrf, "{}");
	ck_assert_int_eq(r.status, 404);	/* no such alert */
	resp_free(&r);
	r = http("POST", "/api/alerts/plant-a/gw-01/2/delete", true, csrf,
	    "{}");
	ck_assert_int_eq(r.status, 404);	/* no such action */
	resp_free(&r);
	/* the alert's page: its state and both audit entries, in order */
	r = http("GET", "/api/alerts?limit=3", true, NULL, NULL);
	{
		cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json,
		    "alerts"), 1);	/* seq 2 of 3, newest first */
		char path[128];
		struct resp one;
		cJSON *au;

		ck_assert_int_eq((int)tu_json_num(row, "alert.seq", -1), 2);
		ck_assert_str_eq(tu_json_str(row, "triage.state"), "acked");
		snprintf(path, sizeof(path), "/api/alert?id=%d&ts_us=%.0f",
		    cJSON_GetObjectItem(row, "id")->valueint,
		    cJSON_GetObjectItem(row, "ts_us")->valuedouble);
		one = http("GET", path, true, NULL, NULL);
		au = cJSON_GetObjectItem(one.json, "audit");
		ck_assert_int_eq(cJSON_GetArraySize(au), 2);
		ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(au, 0),
		    "operator"), "ana");
		ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(au, 0),
		    "action"), "ack");
		ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(au, 1),
		    "note"), "<b>called the plant</b>");
		resp_free(&one);
	}
	resp_free(&r);
	/* state filter: the one acked alert */
	r = http("GET", "/api/alerts?state=acked", true, NULL, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "alerts")), 1);
	resp_free(&r);
	r = http("POST", "/api/verify", true, csrf, "{}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json,
	    "status")), "ok");
	ck_assert_int_eq(cJSON_GetObjectItem(r.json, "alerts")->valueint, 3);
	ck_assert_int_eq((int)tu_json_num(r.json, "audit.entries", -1), 2);
	ck_assert_int_eq((int)tu_json_num(r.json, "audit.problems", -1), 0);
	resp_free(&r);

	/* a viewer's refused ack left nothing in the trail; incidents */
	ck_assert_int_eq(login("vic", VIEWER_PW, csrf, sizeof(csrf)), 200);
	r = http("POST", "/api/incidents/1/ack", true, csrf, "{}");
	ck_assert_int_eq(r.status, 403);
	resp_free(&r);
	ck_assert_int_eq(login("ana", ANALYST_PW, csrf, sizeof(csrf)), 200);
	r = http("POST", "/api/incidents/1/close", true, NULL, "{}");
	ck_assert_int_eq(r.status, 403);	/* no CSRF token */
	resp_free(&r);
	r = http("POST", "/api/incidents/1/close", true, csrf, "{}");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	r = http("POST", "/api/incidents/77/close", true, csrf, "{}");
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);
	r = http("GET", "/api/incidents", true, NULL, NULL);
	ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    r.json, "incidents"), 0), "state"), "closed");
	resp_free(&r);
	r = http("POST", "/api/verify", true, csrf, "{}");
	ck_assert_int_eq((int)tu_json_num(r.json, "audit.entries", -1), 3);
	resp_free(&r);

	/* the admin lists the accounts, and nothing of their hashes */
	ck_assert_int_eq(login("root", ADMIN_PW, csrf, sizeof(csrf)), 200);
	r = http("GET", "/api/users", true, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	u = cJSON_GetObjectItem(r.json, "users");
	ck_assert_int_eq(cJSON_GetArraySize(u), 3);
	ck_assert(!tu_contains(r.body, "pbkdf2"));
	resp_free(&r);
}
END_TEST

START_TEST(t_login_rate_limit)
{
	int i;

	for (i = 0; i < 5; i++)
		ck_assert_int_eq(login("ana", "not-the-password", NULL, 0), 401);
	/* the sixth try within the minute is refused, right password or not */
	ck_assert_int_eq(login("ana", ANALYST_PW, NULL, 0), 429);
	ck_assert_int_eq(tb_file_count(out, "failed login for \"ana\""), 5);
}
END_TEST

START_TEST(t_users_file)
{
	struct stat st;
	char *txt;
	size_t len;

	/* mode 0600, PBKDF2-SHA256 with 200000 iterations, no password */
	ck_assert_int_eq(stat(users, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	txt = tb_read_file(users, &len);
	ck_assert_int_eq(tb_file_count(users, " pbkdf2-sha256 200000 "), 3);
	ck_assert(!tu_contains(txt, ANALYST_PW));
	free(txt);
	/* a new password for an existing name replaces its line */
	add_user("ana", "viewer", "another-password");
	ck_assert_int_eq(tb_file_count(users, "ana "), 1);
	ck_assert_int_eq(login("ana", ANALYST_PW, NULL, 0), 401);
	ck_assert_int_eq(login("ana", "another-password", NULL, 0), 200);
}
END_TEST

/* Page through everything with limit; returns the ids in page order. */
static int
page_all(const char *query, int limit, int64_t *ids, int max, int *pages)
{
	char path[512], cur[64] = "";
	int n = 0;

	*pages = 0;
	for (;;) {
		struct resp r;
		cJSON *a, *it, *next;

		snprintf(path, sizeof(path), "/api/alerts?limit=%d%s%s%s",
		    limit, query, cur[0] ? "&before=" : "", cur);
		r = http("GET", path, true, NULL, NULL);
		ck_assert_msg(r.status == 200, "%s: %s", path, r.body);
		a = cJSON_GetObjectItem(r.json, "alerts");
		ck_assert_int_le(cJSON_GetArraySize(a), limit);
		cJSON_ArrayForEach(it, a) {
			ck_assert_int_lt(n, max);
			ids[n++] = (int64_t)cJSON_GetObjectItem(it, "id")->valuedouble;
		}
		(*pages)++;
		next = cJSON_GetObjectItem(r.json, "next");
		if (!cJSON_IsString(next)) {
			resp_free(&r);
			break;
		}
		snprintf(cur, sizeof(cur), "%s", next->valuestring);
		resp_free(&r);
	}
	return n;
}

START_TEST(t_paging)
{
	static int64_t ids[1000];
	struct central_log *db = open_rw();
	struct tb_chain a, b;
	int n, pages, i;

	/* 3 stored by setup + 247 more of plant-a/gw-01, 50 of plant-b:
	 * gw-01's chain is replayed to continue from setup's 3 alerts */
	central_log_close(db);
	tb_chain_init(&a, "plant-a", "gw-01", 1);
	tb_chain_init(&b, "plant-b", "gw-07", 1);
	for (i = 0; i < 3; i++)
		free(tb_chain_next(&a, a.next_seq % 3 == 0 ?
		    &(struct tb_alert_spec){ .severity = "low" } : NULL));
	db = open_rw();
	fill(db, &a, 247);
	fill(db, &b, 50);
	central_log_close(db);

	ck_assert_int_eq(login("vic", VIEWER_PW, NULL, 0), 200);
	n = page_all("", 100, ids, 1000, &pages);
	ck_assert_int_eq(n, 300);
	ck_assert_int_eq(pages, 3);
	/* newest first, every row once */
	for (i = 1; i < n; i++)
		ck_assert_int_ne(ids[i], ids[i - 1]);
	/* site filter: the 50 of plant-b, 7 pages of 8 */
	n = page_all("&site=plant-b", 8, ids, 1000, &pages);
	ck_assert_int_eq(n, 50);
	ck_assert_int_eq(pages, 7);
	/* min_severity=high: seqs not divisible by 3 (gw-01 1..250: 167,
	 * gw-07 1..50: 34) */
	n = page_all("&min_severity=high", 64, ids, 1000, &pages);
	ck_assert_int_eq(n, 167 + 34);
	/* free text and CIDR, which SQL does not do */
	n = page_all("&q=test%20alert%2042%22", 10, ids, 1000, &pages);
	ck_assert_int_eq(n, 2);		/* seq 42 of each chain */
	n = page_all("&host=10.0.0.0/24&site=plant-b", 100, ids, 1000, &pages);
	ck_assert_int_eq(n, 50);
	n = page_all("&host=10.9.0.0/16", 100, ids, 1000, &pages);
	ck_assert_int_eq(n, 0);
	/* bad arguments */
	{
		struct resp r = http("GET", "/api/alerts?limit=0", true, NULL,
		    NULL);

		ck_assert_int_eq(r.status, 400);
		resp_free(&r);
		r = http("GET", "/api/alerts?min_severity=bad", true, NULL,
		    NULL);
		ck_assert_int_eq(r.status, 400);
		resp_free(&r);
	}
}
END_TEST

START_TEST(t_xss_inert)
{
	struct central_log *db = open_rw();
	struct tb_chain c;
	struct resp r;
	cJSON *a, *al;
	char *j;

	tb_chain_init(&c, "plant-x", "gw-x", 1);
	j = xss_alert(&c);
	store(db, j);
	free(j);
	central_log_close(db);
	ck_assert_int_eq(login("vic", VIEWER_PW, NULL, 0), 200);
	r = http("GET", "/api/alerts?site=plant-x", true, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	/* JSON, never sniffed as HTML, the payload back byte for byte */
	ck_assert(tu_contains(r.hdrs, "Content-Type: application/json"));
	ck_assert(tu_contains(r.hdrs, "X-Content-Type-Options: nosniff"));
	ck_assert(tu_contains(r.hdrs, "Content-Security-Policy: default-src "
	    "'none'; script-src 'self';"));
	ck_assert(!tu_contains(r.hdrs, "unsafe-inline"));
	a = cJSON_GetObjectItem(r.json, "alerts");
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	al = cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "alert");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(al, "title")),
	    XSS_TITLE);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(al, "details"), "topic")), XSS_DETAIL);
	resp_free(&r);

	/* the page: no inline script, and its code never parses data as HTML */
	r = http("GET", "/", false, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert(tu_contains(r.body, "<script src=\"/app.js\""));
	ck_assert(!tu_contains(r.body, "<script>"));
	ck_assert(!tu_contains(r.body, "onclick"));
	ck_assert(tu_contains(r.hdrs, "X-Frame-Options: DENY"));
	resp_free(&r);
	r = http("GET", "/app.js", false, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert(tu_contains(r.body, "textContent"));
	ck_assert(!tu_contains(r.body, "innerHTML"));
	ck_assert(!tu_contains(r.body, "outerHTML"));
	ck_assert(!tu_contains(r.body, "insertAdjacentHTML"));
	ck_assert(!tu_contains(r.body, "document.write"));
	ck_assert(!tu_contains(r.body, "eval("));
	resp_free(&r);
	/* Chart.js from Debian's libjs-chart.js, served by icsentry-web */
	r = http("GET", "/js/chart.js", false, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert(tu_contains(r.body, "Chart.js v3"));
	resp_free(&r);
}
END_TEST

START_TEST(t_sse)
{
	char bin[] = "/usr/bin/curl", url[128], sse[340];
	char *argv[] = { bin, "-sS", "-N", "--max-time", "15", "--cacert", ca,
	    "-b", jar, url, NULL };
	struct central_log *db;
	struct tb_chain c;
	int64_t t0, waited;
	pid_t p;
	char *j;
	int i;

	ck_assert_int_eq(login("vic", VIEWER_PW, NULL, 0), 200);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/api/alerts/stream",
	    port);
	snprintf(sse, sizeof(sse), "%s/sse.out", dir);
	p = tb_spawn(argv, sse);
	ck_assert_int_gt(p, 0);
	/* the stream starts after the 3 stored alerts */
	ck_assert_int_eq(tb_wait_file_contains(sse, ": from id 3", 5000), 0);
	/* a new alert, stored the way the collector stores it */
	db = open_rw();
	tb_chain_init(&c, "plant-s", "gw-s", 1);
	j = xss_alert(&c);
	t0 = tb_now_ms();
	store(db, j);
	free(j);
	ck_assert_int_eq(tb_wait_file_contains(sse, "\"site\":\"plant-s\"",
	    2000), 0);
	waited = tb_now_ms() - t0;
	ck_assert_int_lt(waited, 2000);
	ck_assert_int_eq(tb_file_count(sse, "event: alert"), 1);
	ck_assert_int_eq(tb_file_count(sse, "id: 4\n"), 1);
	/* two more, in order */
	for (i = 0; i < 2; i++) {
		j = xss_alert(&c);
		store(db, j);
		free(j);
	}
	central_log_close(db);
	ck_assert_int_eq(tb_wait_file_count(sse, "event: alert", 3, 2000), 0);
	ck_assert_int_eq(tb_file_count(sse, "id: 6\n"), 1);
	tb_stop_pid(p, SIGTERM, 5000, NULL);
	/* without a session the stream is refused */
	{
		struct resp r = http("GET", "/api/alerts/stream", false, NULL,
		    NULL);

		ck_assert_int_eq(r.status, 401);
		resp_free(&r);
	}
}
END_TEST

START_TEST(t_alert_agents_assets)
{
	struct central_log *db = open_rw();
	const char *asset = "{\"ip\":\"10.0.0.10\",\"vendor\":\"Siemens\","
	    "\"model\":\"S7-1500\",\"roles\":[\"plc\"]}";
	const char *stats = "{\"packets\":1234,\"capture\":{\"dropped\":7,"
	    "\"if_dropped\":1},\"mqtt\":{\"unacked\":5,\"queued\":2}}";
	char path[128];
	struct resp r;
	cJSON *a, *row;

	ck_assert_int_eq(central_log_asset(db, "plant-a", "gw-01", "10.0.0.10",
	    asset, strlen(asset), central_log_now_us()), 0);
	ck_assert_int_eq(central_log_agent_status(db, "plant-a", "gw-01",
	    "online", central_log_now_us()), 0);
	ck_assert_int_eq(central_log_agent_stats(db, "plant-a", "gw-01", stats,
	    strlen(stats), central_log_now_us()), 0);
	central_log_close(db);
	ck_assert_int_eq(login("vic", VIEWER_PW, NULL, 0), 200);

	r = http("GET", "/api/assets", true, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	a = cJSON_GetObjectItem(r.json, "assets");
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(a, 0), "asset.vendor"),
	    "Siemens");
	resp_free(&r);

	r = http("GET", "/api/agents", true, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	a = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "agents"), 0);
	ck_assert_str_eq(tu_json_str(a, "status"), "online");
	ck_assert_int_eq((int)tu_json_num(a, "packets", -1), 1234);
	ck_assert_int_eq((int)tu_json_num(a, "dropped", -1), 8);
	ck_assert_int_eq((int)tu_json_num(a, "backlog", -1), 7);
	resp_free(&r);

	/* one alert: every field, and its chain intact */
	r = http("GET", "/api/alerts?limit=1", true, NULL, NULL);
	row = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "alerts"), 0);
	snprintf(path, sizeof(path), "/api/alert?id=%d&ts_us=%.0f",
	    cJSON_GetObjectItem(row, "id")->valueint,
	    cJSON_GetObjectItem(row, "ts_us")->valuedouble);
	resp_free(&r);
	r = http("GET", path, true, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq((int)tu_json_num(r.json, "row.alert.seq", -1), 3);
	ck_assert_str_eq(tu_json_str(r.json, "row.alert.detector"),
	    "s7.plc_stop");
	ck_assert_str_eq(tu_json_str(r.json, "chain.status"), "intact");
	ck_assert_int_eq((int)tu_json_num(r.json, "chain.chain_alerts", -1), 3);
	resp_free(&r);
	r = http("GET", "/api/alert?id=99&ts_us=1", true, NULL, NULL);
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);

	/* incidents: one, the 3 alerts of 10.0.0.66, with its timeline */
	r = http("GET", "/api/incidents", true, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "incidents")), 1);
	a = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "incidents"), 0);
	ck_assert_str_eq(tu_json_str(a, "attacker"), "10.0.0.66");
	ck_assert_int_eq((int)tu_json_num(a, "count", -1), 3);
	ck_assert_str_eq(tu_json_str(a, "state"), "new");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(a, "timeline")),
	    3);
	resp_free(&r);

	/* stats: 3 alerts in the last hour bucket (2 high, 1 low) */
	r = http("GET", "/api/stats?hours=2", true, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	a = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "hours"), 1);
	ck_assert_int_eq((int)tu_json_num(a, "by_severity.high", -1), 2);
	ck_assert_int_eq((int)tu_json_num(a, "by_severity.low", -1), 1);
	resp_free(&r);
}
END_TEST

START_TEST(t_evidence)
{
	static const unsigned char pcap[] = {
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff, 0, 0, 1, 0, 0, 0, '<', 's', 'c', 'r', 'i', 'p', 't'
	};
	char path[512], url[128];
	struct resp r;
	size_t len;
	char *got;

	snprintf(path, sizeof(path), "%s/plant-a", evdir);
	ck_assert_int_eq(mkdir(evdir, 0700), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/plant-a/gw-01", evdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/plant-a/gw-01/2.pcap", evdir);
	ck_assert_int_eq(tu_write_file(path, pcap, sizeof(pcap)), 0);

	r = http("GET", "/api/alerts/plant-a/gw-01/2/evidence", false, NULL,
	    NULL);
	ck_assert_int_eq(r.status, 401);
	resp_free(&r);
	ck_assert_int_eq(login("vic", VIEWER_PW, NULL, 0), 200);
	r = http("GET", "/api/alerts/plant-a/gw-01/2/evidence", true, NULL,
	    NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert(tu_contains(r.hdrs, "Content-Type: application/vnd.tcpdump.pcap"));
	ck_assert(tu_contains(r.hdrs, "Content-Disposition: attachment; "
	    "filename=\"plant-a_gw-01_2.pcap\""));
	resp_free(&r);
	snprintf(path, sizeof(path), "%s/b", dir);
	got = tb_read_file(path, &len);
	ck_assert_uint_eq(len, sizeof(pcap));
	ck_assert_mem_eq(got, pcap, sizeof(pcap));
	free(got);
	/* none for seq 3 yet; names that are not plain names never reach a
	 * path */
	r = http("GET", "/api/alerts/plant-a/gw-01/3/evidence", true, NULL,
	    NULL);
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);
	/* seq 3's pcap stored in the central log (as the collector does) */
	{
		struct central_log *db = open_rw();

		ck_assert_int_eq(clog_evidence_put(db, "plant-a", "gw-01", 3,
		    pcap, 24, central_log_now_us()), 0);
		central_log_close(db);
	}
	r = http("GET", "/api/alerts/plant-a/gw-01/3/evidence", true, NULL,
	    NULL);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	got = tb_read_file(path, &len);
	ck_assert_uint_eq(len, 24);
	ck_assert_mem_eq(got, pcap, 24);
	free(got);
	snprintf(url, sizeof(url), "/api/alerts/..%%2Fevidence/plant-a/2/"
	    "evidence");
	r = http("GET", url, true, NULL, NULL);
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);
	/* the alert page says which alerts have it */
	r = http("GET", "/api/alerts?limit=3", true, NULL, NULL);
	{
		cJSON *a = cJSON_GetObjectItem(r.json, "alerts"), *it;
		int have = 0;

		cJSON_ArrayForEach(it, a) {
			struct resp one;

			snprintf(url, sizeof(url), "/api/alert?id=%d&ts_us=%.0f",
			    cJSON_GetObjectItem(it, "id")->valueint,
			    cJSON_GetObjectItem(it, "ts_us")->valuedouble);
			one = http("GET", url, true, NULL, NULL);
			ck_assert_int_eq(one.status, 200);
			if (cJSON_IsTrue(cJSON_GetObjectItem(one.json,
			    "evidence_available"))) {
				have++;
				ck_assert_int_ne((int)tu_json_num(one.json,
				    "row.alert.seq", -1), 1);
			}
			resp_free(&one);
		}
		ck_assert_int_eq(have, 2);	/* seq 2 (dir) and 3 (log) */
	}
	resp_free(&r);
}
END_TEST

/* The same console on a PostgreSQL central log. */
START_TEST(t_postgres)
{
	static int64_t ids[64];
	const char *asset = "{\"ip\":\"10.0.0.10\",\"vendor\":\"Siemens\"}";
	char csrf[80], url[128], sse[340], bin[] = "/usr/bin/curl";
	char *argv[] = { bin, "-sS", "-N", "--max-time", "15", "--cacert", ca,
	    "-b", jar, url, NULL };
	struct central_log *db = open_rw();
	struct tb_chain c;
	struct resp r;
	int n, pages, i;
	pid_t p;
	char *j;

	ck_assert_int_eq(central_log_asset(db, "plant-a", "gw-01", "10.0.0.10",
	    asset, strlen(asset), central_log_now_us()), 0);
	central_log_close(db);
	ck_assert_int_eq(login("ana", ANALYST_PW, csrf, sizeof(csrf)), 200);
	n = page_all("", 2, ids, 64, &pages);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(pages, 2);
	r = http("GET", "/api/assets", true, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    r.json, "assets"), 0), "asset.vendor"), "Siemens");
	resp_free(&r);
	r = http("POST", "/api/alerts/plant-a/gw-01/3/ack", true, csrf, "{}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(tu_json_str(r.json, "triage.user"), "ana");
	resp_free(&r);
	r = http("POST", "/api/verify", true, csrf, "{}");
	ck_assert_str_eq(tu_json_str(r.json, "status"), "ok");
	ck_assert_int_eq((int)tu_json_num(r.json, "alerts", -1), 3);
	ck_assert_int_eq((int)tu_json_num(r.json, "audit.entries", -1), 1);
	resp_free(&r);
	/* the event stream (its own PostgreSQL connection) */
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/api/alerts/stream",
	    port);
	snprintf(sse, sizeof(sse), "%s/sse.out", dir);
	p = tb_spawn(argv, sse);
	if (tb_wait_file_contains(sse, ": from id 3", 5000) != 0) {
		char *t = tb_read_file(sse, NULL);

		ck_abort_msg("stream: %s; log: %s", t ? t : "(none)",
		    tb_read_file(out, NULL));
	}
	db = open_rw();
	tb_chain_init(&c, "plant-s", "gw-s", 1);
	for (i = 0; i < 2; i++) {
		j = xss_alert(&c);
		store(db, j);
		free(j);
	}
	central_log_close(db);
	ck_assert_int_eq(tb_wait_file_count(sse, "event: alert", 2, 3000), 0);
	tb_stop_pid(p, SIGTERM, 5000, NULL);
	ck_assert_msg(tb_file_count(sse, "\"site\":\"plant-s\"") == 2, "%s",
	    tb_read_file(sse, NULL));
}
END_TEST

static Suite *
web_suite(void)
{
	Suite *s = suite_create("web");
	TCase *tc = tcase_create("api");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, t_auth_required);
	tcase_add_test(tc, t_roles_and_csrf);
	tcase_add_test(tc, t_login_rate_limit);
	tcase_add_test(tc, t_users_file);
	tcase_add_test(tc, t_paging);
	tcase_add_test(tc, t_xss_inert);
	tcase_add_test(tc, t_sse);
	tcase_add_test(tc, t_alert_agents_assets);
	tcase_add_test(tc, t_evidence);
	suite_add_tcase(s, tc);
	tc = tcase_create("postgres");
	tcase_add_checked_fixture(tc, setup_pg, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, t_postgres);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(web_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
