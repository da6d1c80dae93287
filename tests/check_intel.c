/*
 * check_intel.c - threat-intelligence bundles (issue 17) with real keys:
 * the canonical bytes, Ed25519 signing and verification (OpenSSL), each
 * kind of refusal, key rotation, version rollback, the lookup tables, and
 * the agent applying a bundle given with --intel to a real capture.
 * The MQTT path (publish, subscribe, ACL, the A -> SOC -> B story) is in
 * check_intel_e2e.c.
 */
#include <check.h>
#include <cJSON.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dissectors/dns.h"
#include "dissectors/tls.h"
#include "lib/ids.h"
#include "lib/intel_bundle.h"
#include "lib/rfc3339.h"
#include "tests/testutil.h"

static char dir[256];
static char k1[300], k2[300], k1pub[320], k2pub[320];

static const char *
tpath(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

static void
setup(void)
{
	char id[INTEL_KEY_ID_LEN + 1], err[256];

	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "intel"), 0);
	tpath(k1, sizeof(k1), "k1");
	tpath(k2, sizeof(k2), "k2");
	snprintf(k1pub, sizeof(k1pub), "%s.pub", k1);
	snprintf(k2pub, sizeof(k2pub), "%s.pub", k2);
	ck_assert_msg(intel_keygen(k1, id, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(intel_keygen(k2, id, err, sizeof(err)) == 0, "%s", err);
}

static void
teardown(void)
{
	tu_rmtree(dir);
}

/* A bundle text with version v, indicators as JSON array text. */
static char *
bundle(unsigned v, const char *site, const char *expires, const char *inds)
{
	char *s = NULL;

	if (asprintf(&s, "{\"format\":\"icsentry-intel/1\",\"version\":%u,"
	    "\"site\":%s%s%s,\"expires\":%s%s%s,\"indicators\":%s}", v,
	    site ? "\"" : "", site ? site : "null", site ? "\"" : "",
	    expires ? "\"" : "", expires ? expires : "null", expires ? "\"" : "",
	    inds) < 0)
		return NULL;
	return s;
}

static char *
sign(const char *text, const char *key)
{
	char *out = NULL, err[256];
	size_t len;
	int rc;

	rc = intel_sign(text, strlen(text), key, &out, &len, err, sizeof(err));
	ck_assert_msg(rc == 0, "sign: %s", err);
	return out;
}

static struct intel_keyring *
ring(const char *a, const char *b)
{
	struct intel_keyring *kr = intel_keyring_new();
	char err[256];

	if (a != NULL)
		ck_assert_msg(intel_keyring_add_file(kr, a, err, sizeof(err)) == 0,
		    "%s", err);
	if (b != NULL)
		ck_assert_msg(intel_keyring_add_file(kr, b, err, sizeof(err)) == 0,
		    "%s", err);
	return kr;
}

static enum intel_status
verify(const char *signed_text, struct intel_keyring *kr, char *err,
    size_t errlen, struct intel_bundle **out)
{
	struct intel_bundle *b = NULL;
	enum intel_status st;

	st = intel_verify(signed_text, strlen(signed_text), kr, intel_now_us(),
	    &b, err, errlen);
	if (out != NULL)
		*out = b;
	else
		intel_bundle_free(b);
	return st;
}

static const char *IND1 = "[{\"id\":\"a-1\",\"type\":\"ip\","
    "\"value\":\"10.0.0.66\",\"severity\":\"critical\",\"technique\":\"T0846\"}]";

/* ---- canonical bytes --------------------------------------------------- */

START_TEST(canonical_sorted_compact)
{
	const char *in = " { \"b\" : [1, 2.0, -3e2, \"x\\u00e9\\n\\u0001\\/\"],"
	    "\"a\":{\"z\":null,\"y\":true, \"x\":false} } \n";
	char *out, err[256];
	size_t len;

	ck_assert_int_eq(intel_canonical(in, strlen(in), &out, &len, err,
	    sizeof(err)), 0);
	/* RFC 8785: sorted names, no blanks, integers plain, minimal escapes */
	ck_assert_str_eq(out, "{\"a\":{\"x\":false,\"y\":true,\"z\":null},"
	    "\"b\":[1,2,-300,\"x\xc3\xa9\\n\\u0001/\"]}");
	ck_assert_uint_eq(len, strlen(out));
	free(out);
}
END_TEST

START_TEST(canonical_refuses_ambiguity)
{
	static const char *bad[] = {
		"{\"a\":1,\"a\":2}",		/* duplicate member */
		"{\"a\":1.5}",			/* fraction */
		"{\"a\":9007199254740993}",	/* beyond 2^53 */
		"{\"a\":\"\xff\"}",		/* invalid UTF-8 */
		"{\"a\":\"\xed\xa0\x80\"}",	/* a surrogate in UTF-8 */
		"{\"a\":1} x",			/* text after the value */
		"{\"a\":",			/* truncated */
	};
	char *out = NULL, err[256];
	size_t len, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(intel_canonical(bad[i], strlen(bad[i]), &out, &len,
		    err, sizeof(err)) == IDS_EMALFORMED, "accepted %s", bad[i]);
		ck_assert_msg(err[0] != '\0', "no reason for %s", bad[i]);
	}
}
END_TEST

/* ---- sign and verify ----------------------------------------------------- */

START_TEST(sign_verify_roundtrip)
{
	struct intel_keyring *kr = ring(k1pub, NULL);
	struct intel_bundle *b;
	char *text = bundle(7, NULL, "2099-01-01T00:00:00Z", IND1);
	char *s = sign(text, k1), err[256];

	ck_assert_int_eq(verify(s, kr, err, sizeof(err), &b), INTEL_OK);
	ck_assert_uint_eq(b->version, 7);
	ck_assert_ptr_null(b->site);
	ck_assert_uint_eq(b->nind, 1);
	ck_assert_str_eq(b->ind[0].id, "a-1");
	ck_assert_int_eq(b->ind[0].severity, 4);
	ck_assert_str_eq(b->ind[0].technique, "T0846");
	ck_assert_int_eq(b->ind[0].af, 4);
	ck_assert_uint_eq(strlen(b->key_id), INTEL_KEY_ID_LEN);
	/* the signed text is one line: the canonical bundle and its signature */
	ck_assert_ptr_nonnull(strstr(s, "{\"bundle\":{\"expires\":"));
	ck_assert_int_eq(s[strlen(s) - 1], '\n');
	intel_bundle_free(b);
	intel_keyring_free(kr);
	free(text);
	free(s);
}
END_TEST

START_TEST(refuses_unsigned)
{
	struct intel_keyring *kr = ring(k1pub, NULL);
	char *text = bundle(7, NULL, NULL, IND1), err[256], *empty;

	ck_assert_int_eq(verify(text, kr, err, sizeof(err), NULL), INTEL_UNSIGNED);
	ck_assert_ptr_nonnull(strstr(err, "no signature"));
	ck_assert(asprintf(&empty, "{\"bundle\":%s,\"signatures\":[]}", text) > 0);
	ck_assert_int_eq(verify(empty, kr, err, sizeof(err), NULL), INTEL_UNSIGNED);
	intel_keyring_free(kr);
	free(empty);
	free(text);
}
END_TEST

START_TEST(refuses_wrong_key_and_tampering)
{
	struct intel_keyring *kr = ring(k1pub, NULL);
	char *text = bundle(7, NULL, NULL, IND1), *s, *p, err[256];

	/* signed by a key the gateway does not hold */
	s = sign(text, k2);
	ck_assert_int_eq(verify(s, kr, err, sizeof(err), NULL), INTEL_BADSIG);
	free(s);
	/* one changed byte of the bundle after signing */
	s = sign(text, k1);
	ck_assert_int_eq(verify(s, kr, err, sizeof(err), NULL), INTEL_OK);
	p = strstr(s, "10.0.0.66");
	ck_assert_ptr_nonnull(p);
	p[8] = '7';
	ck_assert_int_eq(verify(s, kr, err, sizeof(err), NULL), INTEL_BADSIG);
	p[8] = '6';
	/* a signature from the right key but mangled */
	p = strstr(s, "\"sig\":\"");
	ck_assert_ptr_nonnull(p);
	p[7] = p[7] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(verify(s, kr, err, sizeof(err), NULL), INTEL_BADSIG);
	free(s);
	intel_keyring_free(kr);
	free(text);
}
END_TEST

START_TEST(refuses_expired)
{
	struct intel_keyring *kr = ring(k1pub, NULL);
	char *text = bundle(7, NULL, "2020-01-01T00:00:00Z", IND1);
	char *s = sign(text, k1), err[256];

	ck_assert_int_eq(verify(s, kr, err, sizeof(err), NULL), INTEL_EXPIRED);
	ck_assert_ptr_nonnull(strstr(err, "expired at 2020-01-01T00:00:00.000000Z"));
	intel_keyring_free(kr);
	free(text);
	free(s);
}
END_TEST

START_TEST(refuses_malformed)
{
	static const char *inds[] = {
		"[{\"id\":\"x\",\"type\":\"ip\",\"value\":\"10.0.0.300\"}]",
		"[{\"id\":\"x\",\"type\":\"cidr\",\"value\":\"10.0.0.0/33\"}]",
		"[{\"id\":\"x\",\"type\":\"mac\",\"value\":\"02:00:00:00:00\"}]",
		"[{\"id\":\"x\",\"type\":\"port\",\"value\":\"tcp/70000\"}]",
		"[{\"id\":\"x\",\"type\":\"domain\",\"value\":\"a..b\"}]",
		"[{\"id\":\"x\",\"type\":\"function\",\"value\":\"modbus\"}]",
		"[{\"id\":\"x\",\"type\":\"url\",\"value\":\"http://x\"}]",
		"[{\"id\":\"x\",\"type\":\"ip\",\"value\":\"10.0.0.1\","
		    "\"severity\":\"grave\"}]",
		"[{\"id\":\"x\",\"type\":\"ip\",\"value\":\"10.0.0.1\",\"colour\":1}]",
		"[{\"id\":\"x\",\"type\":\"ip\",\"value\":\"10.0.0.1\"},"
		    "{\"id\":\"x\",\"type\":\"ip\",\"value\":\"10.0.0.2\"}]",
		"{}",
	};
	struct intel_keyring *kr = ring(k1pub, NULL);
	struct intel_bundle *b;
	char *text, err[256], *out;
	size_t i, len;

	for (i = 0; i < sizeof(inds) / sizeof(inds[0]); i++) {
		text = bundle(7, NULL, NULL, inds[i]);
		/* the SOC's tool refuses to sign it ... */
		ck_assert_msg(intel_sign(text, strlen(text), k1, &out, &len, err,
		    sizeof(err)) == IDS_EMALFORMED, "signed %s", inds[i]);
		/* ... and a gateway refuses it even when signed */
		ck_assert_int_eq(intel_bundle_parse(text, strlen(text), &b, err,
		    sizeof(err)), INTEL_MALFORMED);
		free(text);
	}
	/* not JSON at all, not the format, no version */
	ck_assert_int_eq(verify("garbage", kr, err, sizeof(err), NULL),
	    INTEL_MALFORMED);
	text = strdup("{\"format\":\"other/1\",\"version\":1,\"indicators\":[]}");
	ck_assert_int_eq(intel_bundle_parse(text, strlen(text), &b, err,
	    sizeof(err)), INTEL_MALFORMED);
	free(text);
	text = strdup("{\"format\":\"icsentry-intel/1\",\"indicators\":[]}");
	ck_assert_int_eq(intel_bundle_parse(text, strlen(text), &b, err,
	    sizeof(err)), INTEL_MALFORMED);
	free(text);
	intel_keyring_free(kr);
}
END_TEST

/*
 * Rotation: during a change the SOC signs with the old and the new key;
 * gateways holding either (or both) accept; after it, a bundle signed
 * only by the retired key is refused by gateways that dropped it.
 */
START_TEST(key_rotation)
{
	struct intel_keyring *old = ring(k1pub, NULL), *both = ring(k1pub, k2pub);
	struct intel_keyring *new = ring(k2pub, NULL);
	struct intel_bundle *b;
	char *text = bundle(8, NULL, NULL, IND1), *s1, *s12, *p, err[256];
	size_t len;

	s1 = sign(text, k1);
	ck_assert_int_eq(intel_sign(s1, strlen(s1), k2, &s12, &len, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(verify(s12, old, err, sizeof(err), NULL), INTEL_OK);
	ck_assert_int_eq(verify(s12, new, err, sizeof(err), &b), INTEL_OK);
	intel_bundle_free(b);
	ck_assert_int_eq(verify(s12, both, err, sizeof(err), NULL), INTEL_OK);
	/* the same key twice is refused by the tool */
	ck_assert_int_eq(intel_sign(s12, strlen(s12), k2, &p, &len, err,
	    sizeof(err)), IDS_EINVAL);
	/* only the retired key: a gateway that moved on refuses */
	ck_assert_int_eq(verify(s1, new, err, sizeof(err), NULL), INTEL_BADSIG);
	ck_assert_int_eq(verify(s1, both, err, sizeof(err), NULL), INTEL_OK);
	intel_keyring_free(old);
	intel_keyring_free(both);
	intel_keyring_free(new);
	free(text);
	free(s1);
	free(s12);
}
END_TEST

START_TEST(version_and_site_scope)
{
	struct intel_bundle *b;
	char *text = bundle(5, "plant-b", NULL, IND1), err[256];

	ck_assert_int_eq(intel_bundle_parse(text, strlen(text), &b, err,
	    sizeof(err)), INTEL_OK);
	ck_assert_int_eq(intel_check_scope(b, "plant-b", 4, err, sizeof(err)),
	    INTEL_OK);
	ck_assert_int_eq(intel_check_scope(b, "plant-b", 5, err, sizeof(err)),
	    INTEL_OLDER);
	ck_assert_int_eq(intel_check_scope(b, "plant-b", 9, err, sizeof(err)),
	    INTEL_OLDER);
	ck_assert_ptr_nonnull(strstr(err, "not newer than the applied version 9"));
	ck_assert_int_eq(intel_check_scope(b, "plant-a", 0, err, sizeof(err)),
	    INTEL_WRONG_SITE);
	intel_bundle_free(b);
	free(text);
}
END_TEST

/* RFC 3339 as bundles and the tool's options write it (lib/rfc3339.c). */
START_TEST(rfc3339_forms)
{
	int64_t us;
	char buf[32];

	ck_assert_int_eq(rfc3339_parse_any("2026-12-04T18:00:00Z", &us), 0);
	ck_assert_int_eq(us, 1796407200LL * 1000000);
	ck_assert_str_eq(rfc3339_format((uint64_t)us, buf, sizeof(buf)),
	    "2026-12-04T18:00:00.000000Z");
	ck_assert_int_eq(rfc3339_parse_any("2026-12-04T19:00:00.25+01:00", &us), 0);
	ck_assert_int_eq(us, 1796407200LL * 1000000 + 250000);
	ck_assert_int_eq(rfc3339_parse_any("2026-12-04T18:00:00", &us), -1);
	ck_assert_int_eq(rfc3339_parse_any("2026-13-04T18:00:00Z", &us), -1);
	ck_assert_int_eq(rfc3339_parse_any("2026-12-04 18:00:00Z", &us), -1);
	ck_assert_int_eq(rfc3339_parse_any("2026-12-04T18:00:00.Z", &us), -1);
}
END_TEST

/* ---- lookup tables ------------------------------------------------------ */

static const uint8_t *
ip4(const char *s, uint8_t *buf)
{
	ck_assert_int_eq(inet_pton(AF_INET, s, buf), 1);
	return buf;
}

START_TEST(set_matches_each_kind)
{
	const char *inds = "["
	    "{\"id\":\"ip\",\"type\":\"ip\",\"value\":\"10.0.0.66\"},"
	    "{\"id\":\"net16\",\"type\":\"cidr\",\"value\":\"10.9.7.7/16\"},"
	    "{\"id\":\"net24\",\"type\":\"cidr\",\"value\":\"10.9.1.0/24\"},"
	    "{\"id\":\"net8\",\"type\":\"cidr\",\"value\":\"11.0.0.0/8\"},"
	    "{\"id\":\"net20\",\"type\":\"cidr\",\"value\":\"11.1.16.0/20\"},"
	    "{\"id\":\"v6\",\"type\":\"cidr\",\"value\":\"2001:db8::/32\"},"
	    "{\"id\":\"mac\",\"type\":\"mac\",\"value\":\"02:00:00:00:00:42\"},"
	    "{\"id\":\"p\",\"type\":\"port\",\"value\":\"4444\"},"
	    "{\"id\":\"pu\",\"type\":\"port\",\"value\":\"udp/47808\"},"
	    "{\"id\":\"d\",\"type\":\"domain\",\"value\":\"Evil.Example.\"},"
	    "{\"id\":\"f\",\"type\":\"function\",\"value\":\"modbus:0x08\"},"
	    "{\"id\":\"dev\",\"type\":\"device\",\"value\":\"dnp3:10\"},"
	    "{\"id\":\"old\",\"type\":\"ip\",\"value\":\"10.0.0.99\","
	    "\"expires\":\"2020-01-01T00:00:00Z\"}]";
	const struct intel_bundle *pair[2];
	const struct intel_indicator *m;
	struct intel_bundle *b;
	struct intel_set *s;
	uint8_t a[16], mac[6] = { 2, 0, 0, 0, 0, 0x42 };
	char *text = bundle(3, NULL, NULL, inds), err[256];

	ck_assert_msg(intel_bundle_parse(text, strlen(text), &b, err,
	    sizeof(err)) == INTEL_OK, "%s", err);
	pair[0] = b;
	pair[1] = NULL;
	s = intel_set_build(pair, 2, intel_now_us());
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(intel_set_count(s), 12);	/* "old" expired */
	m = intel_match_ip(s, 4, ip4("10.0.0.66", a));
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->id, "ip");
	ck_assert_uint_eq(m->version, 3);
	ck_assert_ptr_null(intel_match_ip(s, 4, ip4("10.0.0.67", a)));
	ck_assert_ptr_null(intel_match_ip(s, 4, ip4("10.0.0.99", a)));
	/* longest prefix first */
	ck_assert_str_eq(intel_match_ip(s, 4, ip4("10.9.1.200", a))->id, "net24");
	ck_assert_str_eq(intel_match_ip(s, 4, ip4("10.9.200.1", a))->id, "net16");
	ck_assert_ptr_null(intel_match_ip(s, 4, ip4("10.10.0.1", a)));
	/* a /8 over many /16 blocks, and a /20 inside it wins where it holds */
	ck_assert_str_eq(intel_match_ip(s, 4, ip4("11.200.3.4", a))->id, "net8");
	ck_assert_str_eq(intel_match_ip(s, 4, ip4("11.1.31.255", a))->id, "net20");
	ck_assert_str_eq(intel_match_ip(s, 4, ip4("11.1.32.0", a))->id, "net8");
	ck_assert_ptr_null(intel_match_ip(s, 4, ip4("12.0.0.1", a)));
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8:1::5", a), 1);
	ck_assert_str_eq(intel_match_ip(s, 6, a)->id, "v6");
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db9::5", a), 1);
	ck_assert_ptr_null(intel_match_ip(s, 6, a));
	ck_assert_str_eq(intel_match_mac(s, mac)->id, "mac");
	mac[5] = 0x43;
	ck_assert_ptr_null(intel_match_mac(s, mac));
	ck_assert_str_eq(intel_match_port(s, 6, 4444)->id, "p");
	ck_assert_str_eq(intel_match_port(s, 17, 4444)->id, "p");
	ck_assert_str_eq(intel_match_port(s, 17, 47808)->id, "pu");
	ck_assert_ptr_null(intel_match_port(s, 6, 47808));
	ck_assert_str_eq(intel_match_domain(s, "evil.example")->id, "d");
	ck_assert_str_eq(intel_match_domain(s, "C2.EVIL.example.")->id, "d");
	ck_assert_ptr_null(intel_match_domain(s, "notevil.example"));
	ck_assert_ptr_null(intel_match_domain(s, "example"));
	ck_assert_str_eq(intel_match_function(s, "modbus", 8)->id, "f");
	ck_assert_ptr_null(intel_match_function(s, "modbus", 6));
	ck_assert_ptr_null(intel_match_function(s, "dnp3", 8));
	ck_assert_str_eq(intel_match_device(s, "dnp3", 10)->id, "dev");
	ck_assert_ptr_null(intel_match_device(s, "dnp3", 11));
	intel_set_free(s);
	intel_bundle_free(b);
	free(text);
}
END_TEST

/* A fleet and a site bundle together: both sets of indicators apply. */
START_TEST(set_two_scopes)
{
	const struct intel_bundle *pair[2];
	struct intel_bundle *f, *st;
	struct intel_set *s;
	uint8_t a[4];
	char *t1 = bundle(4, NULL, NULL, IND1), err[256];
	char *t2 = bundle(2, "plant-b", NULL, "[{\"id\":\"s-1\",\"type\":\"ip\","
	    "\"value\":\"10.0.0.77\"}]");

	ck_assert_int_eq(intel_bundle_parse(t1, strlen(t1), &f, err,
	    sizeof(err)), INTEL_OK);
	ck_assert_int_eq(intel_bundle_parse(t2, strlen(t2), &st, err,
	    sizeof(err)), INTEL_OK);
	pair[0] = f;
	pair[1] = st;
	s = intel_set_build(pair, 2, intel_now_us());
	ck_assert_str_eq(intel_match_ip(s, 4, ip4("10.0.0.66", a))->id, "a-1");
	ck_assert_uint_eq(intel_match_ip(s, 4, ip4("10.0.0.66", a))->version, 4);
	ck_assert_str_eq(intel_match_ip(s, 4, ip4("10.0.0.77", a))->id, "s-1");
	ck_assert_uint_eq(intel_match_ip(s, 4, ip4("10.0.0.77", a))->version, 2);
	intel_set_free(s);
	intel_bundle_free(f);
	intel_bundle_free(st);
	free(t1);
	free(t2);
}
END_TEST

/* ---- DNS query names (domain indicators) ------------------------------- */

static const uint8_t dns_query[] = {
	0x12, 0x34,		/* ID */
	0x01, 0x00,		/* flags: query, RD */
	0x00, 0x01,		/* QDCOUNT 1 */
	0x00, 0x00,		/* ANCOUNT */
	0x00, 0x00,		/* NSCOUNT */
	0x00, 0x00,		/* ARCOUNT */
	0x02, 'C', '2',		/* label "C2" */
	0x04, 'E', 'v', 'i', 'l',	/* label "Evil" */
	0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e',	/* label "example" */
	0x00,			/* root */
	0x00, 0x01,		/* QTYPE A */
	0x00, 0x01,		/* QCLASS IN */
};

START_TEST(dns_name)
{
	uint8_t *p = tu_dup_exact(dns_query, sizeof(dns_query));
	char name[DNS_NAME_MAX + 1];

	ck_assert_int_eq(dns_query_name(p, sizeof(dns_query), name), 0);
	ck_assert_str_eq(name, "c2.evil.example");
	/* a response, a compression pointer: not a query's question */
	p[2] = 0x81;
	ck_assert_int_eq(dns_query_name(p, sizeof(dns_query), name),
	    IDS_EMALFORMED);
	p[2] = 0x01;
	p[12] = 0xc0;
	ck_assert_int_eq(dns_query_name(p, sizeof(dns_query), name),
	    IDS_EMALFORMED);
	free(p);
}
END_TEST

/* Every prefix of the query is refused cleanly, from an exact-size copy. */
START_TEST(dns_name_truncated)
{
	uint8_t *p = tu_dup_exact(dns_query, (size_t)_i);
	char name[DNS_NAME_MAX + 1];

	ck_assert_int_eq(dns_query_name(p, (size_t)_i, name), IDS_ETRUNC);
	free(p);
}
END_TEST

/* ---- TLS server_name and DNS over TCP (domain indicators) ------------- */

/*
 * A real ClientHello: openssl s_client -servername SNI connects to a
 * socket of ours; the first TLS record it sends is kept (the handshake
 * goes no further).  Returns its length.
 */
static size_t
real_client_hello(const char *sni, uint8_t *buf, size_t cap)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct pollfd pfd;
	char port[16];
	size_t n = 0;
	ssize_t got;
	pid_t pid;
	int ls, c, st;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(ls, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(ls, 1), 0);
	ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
	snprintf(port, sizeof(port), "127.0.0.1:%u", ntohs(sa.sin_port));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		execlp("openssl", "openssl", "s_client", "-connect", port,
		    "-servername", sni, (char *)NULL);
		_exit(127);
	}
	pfd.fd = ls;
	pfd.events = POLLIN;
	ck_assert_msg(poll(&pfd, 1, 20000) == 1, "openssl s_client did not connect");
	c = accept(ls, NULL, NULL);
	ck_assert_int_ge(c, 0);
	/* the record header, then the rest of the record */
	while (n < 5 || n < 5 + ((size_t)buf[3] << 8 | buf[4])) {
		pfd.fd = c;
		ck_assert_msg(poll(&pfd, 1, 20000) == 1, "no ClientHello");
		got = read(c, buf + n, cap - n);
		ck_assert_int_gt(got, 0);
		n += (size_t)got;
		ck_assert_uint_lt(n, cap);
	}
	close(c);
	close(ls);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return 5 + ((size_t)buf[3] << 8 | buf[4]);
}

START_TEST(tls_sni_real_hello)
{
	uint8_t hello[8192], *p;
	char name[TLS_SNI_MAX + 1];
	size_t n = real_client_hello("C2.Evil.Example", hello, sizeof(hello));
	size_t i;
	int rc, got = 0;

	ck_assert(tls_is_client_hello(hello, n));
	p = tu_dup_exact(hello, n);
	ck_assert_int_eq(tls_client_hello_sni(p, n, name), 0);
	ck_assert_str_eq(name, "c2.evil.example");
	free(p);
	/*
	 * Every prefix, from an exact-size copy: cut short, never
	 * malformed, and a name only once the whole name is in.
	 */
	for (i = 0; i < n; i++) {
		p = tu_dup_exact(hello, i);
		name[0] = '\0';
		rc = tls_client_hello_sni(p, i, name);
		ck_assert_msg(rc == IDS_ETRUNC || rc == 0, "prefix %zu: %d", i, rc);
		if (rc == 0) {
			ck_assert_str_eq(name, "c2.evil.example");
			got++;
		}
		free(p);
	}
	ck_assert_int_gt(got, 0);
	/* not a hello: another handshake type, an application record */
	hello[5] = 2;
	ck_assert_int_eq(tls_client_hello_sni(hello, n, name), IDS_EMALFORMED);
	hello[5] = 1;
	hello[0] = 0x17;
	ck_assert_int_eq(tls_client_hello_sni(hello, n, name), IDS_EMALFORMED);
}
END_TEST

/* A hand-made TLS 1.2 hello: no extensions, then a bad server_name. */
START_TEST(tls_sni_crafted)
{
	uint8_t h[200];
	char name[TLS_SNI_MAX + 1];
	size_t n = 0, body, ext;

	memset(h, 0, sizeof(h));
	h[n++] = 0x16; h[n++] = 3; h[n++] = 1; n += 2;		/* record */
	h[n++] = 1; n += 3;					/* hello */
	h[n++] = 3; h[n++] = 3; n += 32;			/* version, random */
	h[n++] = 0;						/* session id */
	h[n++] = 0; h[n++] = 2; h[n++] = 0xc0; h[n++] = 0x2f;	/* 1 suite */
	h[n++] = 1; h[n++] = 0;					/* null compr. */
	body = n;
	h[3] = 0; h[4] = (uint8_t)(n - 5);
	h[8] = (uint8_t)(n - 9);
	ck_assert_int_eq(tls_client_hello_sni(h, n, name), IDS_ENOTSUP);
	/* extensions: server_name "a b" (a space: not a host name) */
	ext = n;
	n += 2;
	h[n++] = 0; h[n++] = 0; h[n++] = 0; h[n++] = 8;		/* type 0, len 8 */
	h[n++] = 0; h[n++] = 6; h[n++] = 0; h[n++] = 0; h[n++] = 3;
	h[n++] = 'a'; h[n++] = ' '; h[n++] = 'b';
	h[ext + 1] = (uint8_t)(n - ext - 2);
	h[4] = (uint8_t)(n - 5);
	h[8] = (uint8_t)(n - 9);
	ck_assert_int_eq(tls_client_hello_sni(h, n, name), IDS_EMALFORMED);
	h[n - 2] = '.';
	ck_assert_int_eq(tls_client_hello_sni(h, n, name), 0);
	ck_assert_str_eq(name, "a.b");
	/* a host length past its list */
	h[ext + 9] = 9;
	ck_assert_int_eq(tls_client_hello_sni(h, n, name), IDS_EMALFORMED);
	(void)body;
}
END_TEST

START_TEST(dns_tcp_name)
{
	uint8_t m[2 + sizeof(dns_query)], *p;
	char name[DNS_NAME_MAX + 1];
	size_t i;

	m[0] = 0;
	m[1] = sizeof(dns_query);
	memcpy(m + 2, dns_query, sizeof(dns_query));
	ck_assert_int_eq(dns_tcp_query_name(m, sizeof(m), name), 0);
	ck_assert_str_eq(name, "c2.evil.example");
	for (i = 0; i < sizeof(m); i++) {
		p = tu_dup_exact(m, i);
		ck_assert_int_eq(dns_tcp_query_name(p, i, name), IDS_ETRUNC);
		free(p);
	}
	/* a length shorter than a header */
	m[1] = 11;
	ck_assert_int_eq(dns_tcp_query_name(m, sizeof(m), name), IDS_EMALFORMED);
}
END_TEST

/* ---- the tool and the agent, with files ---------------------------------- */

static int
run(char *const argv[], struct tu_result *r)
{
	return tu_run(argv, NULL, 120000, r);
}

static char intel_bin[300], agent_bin[300], pcap[300], conf[300];

static void
tools(void)
{
	char d[300];
	FILE *f;

	tu_build_path(intel_bin, sizeof(intel_bin), "icsentry-intel");
	tu_agent_path(agent_bin, sizeof(agent_bin));
	snprintf(pcap, sizeof(pcap), "%s/fast-attacks.pcap",
	    tu_build_path(d, sizeof(d), "scenarios"));
	tpath(conf, sizeof(conf), "agent.conf");
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	/* both keys held: a rotation is under way */
	fprintf(f, "[agent]\nname = gw-b\nsite = plant-b\nalert_window = 0\n"
	    "[intel]\nkeys = %s, %s\n", k1pub, k2pub);
	fclose(f);
}

/* icsentry-intel new ... > out; sign > out.signed with key */
static void
make_bundle(const char *out, const char *key, char *const extra[])
{
	char *argv[32], json[320], sig[300];
	struct tu_result r;
	int n = 0, i;

	snprintf(json, sizeof(json), "%s.json", out);
	argv[n++] = intel_bin;
	argv[n++] = (char *)"new";
	for (i = 0; extra[i] != NULL; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	ck_assert_int_eq(run(argv, &r), 0);
	ck_assert_msg(r.exit_code == 0, "new: %s", r.err);
	ck_assert_int_eq(tu_write_file(json, r.out, r.out_len), 0);
	tu_result_free(&r);
	if (key == NULL)
		return;
	{
		char *sv[] = { intel_bin, (char *)"sign", (char *)"--key",
		    (char *)key, json, NULL };

		ck_assert_int_eq(run(sv, &r), 0);
		ck_assert_msg(r.exit_code == 0, "sign: %s", r.err);
		snprintf(sig, sizeof(sig), "%s", out);
		ck_assert_int_eq(tu_write_file(sig, r.out, r.out_len), 0);
		tu_result_free(&r);
	}
}

/* Replay fast-attacks with --intel file: the alerts as JSON lines. */
static void
replay(const char *bundle_file, struct tu_result *r)
{
	char *argv[] = { agent_bin, (char *)"-c", conf, (char *)"-r", pcap,
	    (char *)"--intel", (char *)bundle_file, (char *)"--alerts-out",
	    (char *)"-", NULL };

	ck_assert_int_eq(run(argv, r), 0);
	ck_assert_msg(r->exit_code == 0, "agent: %s", r->err);
}

static int
count_matches(const char *out, const char *indicator, uint64_t version)
{
	cJSON *all, *a;
	int bad = 0, n = 0;

	all = tu_json_lines(out, &bad);
	ck_assert_int_eq(bad, 0);
	cJSON_ArrayForEach(a, all) {
		/* alert_window = 0: no summaries, every match has its id */
		if (strcmp(tu_json_str(a, "detector"), "intel.match") != 0)
			continue;
		ck_assert_str_eq(tu_json_str(a, "details.indicator"), indicator);
		ck_assert_int_eq((uint64_t)tu_json_num(a, "details.bundle_version",
		    0), version);
		ck_assert_str_eq(tu_json_str(a, "technique"), "T0846");
		ck_assert_str_eq(tu_json_str(a, "severity"), "critical");
		n++;
	}
	cJSON_Delete(all);
	return n;
}

START_TEST(tool_keygen_modes)
{
	struct stat st;
	char *argv[] = { intel_bin, (char *)"verify", (char *)"--pub", k1pub,
	    NULL, NULL };
	char b[300], bad[320];
	struct tu_result r;
	char *extra[] = { (char *)"--version", (char *)"3", (char *)"--indicator",
	    (char *)"ip:10.10.1.66:critical:T0846", NULL };

	tools();
	/* the private key is the owner's only */
	ck_assert_int_eq(stat(k1, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	tpath(b, sizeof(b), "b3.signed");
	make_bundle(b, k1, extra);
	argv[4] = b;
	ck_assert_int_eq(run(argv, &r), 0);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert(tu_contains(r.out, "good signature by key"));
	ck_assert(tu_contains(r.out, "version 3, fleet, 1 indicator(s)"));
	tu_result_free(&r);
	/* the other key: refused, exit 1, the reason named */
	argv[3] = k2pub;
	ck_assert_int_eq(run(argv, &r), 0);
	ck_assert_int_eq(r.exit_code, 1);
	ck_assert(tu_contains(r.err, "refused (bad-signature)"));
	tu_result_free(&r);
	/* the unsigned JSON: exit 1 */
	snprintf(bad, sizeof(bad), "%s.json", b);
	argv[3] = k1pub;
	argv[4] = bad;
	ck_assert_int_eq(run(argv, &r), 0);
	ck_assert_int_eq(r.exit_code, 1);
	ck_assert(tu_contains(r.err, "refused (unsigned)"));
	tu_result_free(&r);
}
END_TEST

START_TEST(agent_applies_file_bundle)
{
	char b[300];
	struct tu_result r;
	char *extra[] = { (char *)"--version", (char *)"3", (char *)"--indicator",
	    (char *)"ip:10.10.1.66:critical:T0846", (char *)"--id-prefix",
	    (char *)"soc", NULL };

	tools();
	tpath(b, sizeof(b), "b3.signed");
	make_bundle(b, k2, extra);
	replay(b, &r);
	/* 10.10.1.66 scans and restarts in fast-attacks: many flows of its */
	ck_assert_int_ge(count_matches(r.out, "soc-3-1", 3), 1);
	ck_assert(tu_contains(r.err, "intel: applied fleet bundle version 3"));
	ck_assert(tu_contains(r.err, "good signature by key"));
	tu_result_free(&r);
}
END_TEST

/* Each refusal leaves the agent running with no intel; the log says why. */
START_TEST(agent_refuses_bad_bundles)
{
	char good[300], json[320], other[300], expired[300], site[300];
	char bad[300], k3[300], id[INTEL_KEY_ID_LEN + 1], err[256];
	struct { const char *file, *why; } cases[5];
	struct tu_result r;
	size_t i;
	char *e1[] = { (char *)"--version", (char *)"3", (char *)"--indicator",
	    (char *)"ip:10.10.1.66:critical:T0846", NULL };
	char *e2[] = { (char *)"--version", (char *)"3", (char *)"--expires",
	    (char *)"2021-01-01T00:00:00Z", (char *)"--indicator",
	    (char *)"ip:10.10.1.66:critical:T0846", NULL };
	char *e3[] = { (char *)"--version", (char *)"3", (char *)"--site",
	    (char *)"plant-a", (char *)"--indicator",
	    (char *)"ip:10.10.1.66:critical:T0846", NULL };
	char *buf;
	size_t len;

	tools();
	tpath(good, sizeof(good), "good.signed");
	make_bundle(good, k1, e1);
	snprintf(json, sizeof(json), "%s.json", good);
	/* a third key nobody configured */
	tpath(k3, sizeof(k3), "k3");
	ck_assert_int_eq(intel_keygen(k3, id, err, sizeof(err)), 0);
	tpath(other, sizeof(other), "other.signed");
	make_bundle(other, k3, e1);
	tpath(expired, sizeof(expired), "expired.signed");
	make_bundle(expired, k1, e2);
	tpath(site, sizeof(site), "site.signed");
	make_bundle(site, k1, e3);
	/* truncated signed text */
	buf = tu_read_file(good, &len);
	tpath(bad, sizeof(bad), "truncated.signed");
	ck_assert_int_eq(tu_write_file(bad, buf, len / 2), 0);
	free(buf);
	cases[0].file = json;
	cases[0].why = "unsigned: the bundle carries no signature";
	cases[1].file = other;
	cases[1].why = "bad-signature: none of its 1 signature(s) verifies";
	cases[2].file = expired;
	cases[2].why = "expired: version 3 expired at 2021-01-01T00:00:00.000000Z";
	cases[3].file = site;
	cases[3].why = "wrong-site: version 3 is for site plant-a, this is site plant-b";
	cases[4].file = bad;
	cases[4].why = "malformed: not JSON";
	for (i = 0; i < 5; i++) {
		replay(cases[i].file, &r);
		ck_assert_msg(tu_contains(r.err, "intel: refused bundle from"),
		    "%s: %s", cases[i].file, r.err);
		ck_assert_msg(tu_contains(r.err, cases[i].why), "%s: %s",
		    cases[i].why, r.err);
		ck_assert(tu_contains(r.err, "the running policy stays"));
		ck_assert_int_eq(count_matches(r.out, "none", 0), 0);
		/* the other detectors carry on: the scan is still reported */
		ck_assert(tu_contains(r.out, "\"detector\":\"net.port_scan\""));
		tu_result_free(&r);
	}
}
END_TEST

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A one-packet pcap: 10.10.1.50:40000 -> 10.10.1.1:53, the query above. */
static void
write_dns_pcap(const char *path)
{
	static const uint8_t ghdr[24] = {
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff, 0, 0, 1, 0, 0, 0	/* LINKTYPE_ETHERNET */
	};
	uint8_t pkt[14 + 20 + 8 + sizeof(dns_query)], rec[16];
	uint32_t sum = 0, n = sizeof(pkt);
	size_t i;
	FILE *f;

	memset(pkt, 0, sizeof(pkt));
	memcpy(pkt, "\x00\x1e\xbd\x4a\x10\x01\x02\x00\x00\x00\x00\x50", 12);
	put16(pkt + 12, 0x0800);
	pkt[14] = 0x45;
	put16(pkt + 16, 20 + 8 + sizeof(dns_query));
	pkt[22] = 64;
	pkt[23] = 17;
	memcpy(pkt + 26, "\x0a\x0a\x01\x32\x0a\x0a\x01\x01", 8);
	for (i = 14; i < 34; i += 2)
		sum += (uint32_t)pkt[i] << 8 | pkt[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(pkt + 24, ~sum & 0xffff);
	put16(pkt + 34, 40000);
	put16(pkt + 36, 53);
	put16(pkt + 38, 8 + sizeof(dns_query));
	memcpy(pkt + 42, dns_query, sizeof(dns_query));
	memset(rec, 0, sizeof(rec));
	rec[0] = 0x00; rec[1] = 0x60; rec[2] = 0x41; rec[3] = 0x66;	/* 2024 */
	for (i = 0; i < 4; i++) {
		rec[8 + i] = (uint8_t)(n >> (8 * i));
		rec[12 + i] = (uint8_t)(n >> (8 * i));
	}
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(ghdr, 1, sizeof(ghdr), f), sizeof(ghdr));
	ck_assert_uint_eq(fwrite(rec, 1, sizeof(rec), f), sizeof(rec));
	ck_assert_uint_eq(fwrite(pkt, 1, sizeof(pkt), f), sizeof(pkt));
	fclose(f);
}

/*
 * A TCP conversation 10.10.1.50:40001 -> SERVER:port as a pcap: the
 * three-way handshake, then one client segment carrying data.
 */
static void
write_tcp_pcap(const char *path, const char *server, unsigned port,
    const uint8_t *data, size_t dlen)
{
	static const uint8_t ghdr[24] = {
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff, 0, 0, 1, 0, 0, 0	/* LINKTYPE_ETHERNET */
	};
	static const uint8_t flags[4] = { 0x02, 0x12, 0x10, 0x18 };
	uint8_t pkt[14 + 20 + 20 + 8192], rec[16], cli[4], srv[4];
	uint32_t sum, n, cseq = 1000, sseq = 5000;
	size_t i, k, plen;
	FILE *f;

	ck_assert_uint_le(dlen, 8192);
	ck_assert_int_eq(inet_pton(AF_INET, "10.10.1.50", cli), 1);
	ck_assert_int_eq(inet_pton(AF_INET, server, srv), 1);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(ghdr, 1, sizeof(ghdr), f), sizeof(ghdr));
	for (k = 0; k < 4; k++) {
		bool c2s = k != 1;

		plen = k == 3 ? dlen : 0;
		n = (uint32_t)(14 + 20 + 20 + plen);
		memset(pkt, 0, n);
		memcpy(pkt, c2s ? "\x00\x1e\xbd\x4a\x10\x01\x02\x00\x00\x00\x00\x50" :
		    "\x02\x00\x00\x00\x00\x50\x00\x1e\xbd\x4a\x10\x01", 12);
		put16(pkt + 12, 0x0800);
		pkt[14] = 0x45;
		put16(pkt + 16, (unsigned)(20 + 20 + plen));
		pkt[22] = 64;
		pkt[23] = 6;
		memcpy(pkt + 26, c2s ? cli : srv, 4);
		memcpy(pkt + 30, c2s ? srv : cli, 4);
		for (sum = 0, i = 14; i < 34; i += 2)
			sum += (uint32_t)pkt[i] << 8 | pkt[i + 1];
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		put16(pkt + 24, ~sum & 0xffff);
		put16(pkt + 34, c2s ? 40001 : port);
		put16(pkt + 36, c2s ? port : 40001);
		{
			uint32_t seq = c2s ? cseq + (k >= 2) : sseq;
			uint32_t ack = k == 0 ? 0 : c2s ? sseq + 1 : cseq + 1;

			put16(pkt + 38, seq >> 16);
			put16(pkt + 40, seq & 0xffff);
			put16(pkt + 42, ack >> 16);
			put16(pkt + 44, ack & 0xffff);
		}
		pkt[46] = 0x50;
		pkt[47] = flags[k];
		put16(pkt + 48, 64240);
		if (plen > 0)
			memcpy(pkt + 54, data, plen);
		memset(rec, 0, sizeof(rec));
		rec[0] = 0x00; rec[1] = 0x60; rec[2] = 0x41; rec[3] = 0x66;
		rec[4] = (uint8_t)(k * 16);		/* usec: in order */
		for (i = 0; i < 4; i++) {
			rec[8 + i] = (uint8_t)(n >> (8 * i));
			rec[12 + i] = (uint8_t)(n >> (8 * i));
		}
		ck_assert_uint_eq(fwrite(rec, 1, sizeof(rec), f), sizeof(rec));
		ck_assert_uint_eq(fwrite(pkt, 1, n, f), n);
	}
	fclose(f);
}

/* Replay PCAP with bundle B: the intel.match alerts, checked, counted. */
static int
domain_matches(const char *pcapf, const char *b, const char *id,
    const char *matched, const char *proto, const char *dst)
{
	struct tu_result r;
	cJSON *all, *a;
	int bad = 0, n = 0;
	char *argv[] = { agent_bin, (char *)"-c", conf, (char *)"-r",
	    (char *)pcapf, (char *)"--intel", (char *)b, (char *)"--alerts-out",
	    (char *)"-", NULL };

	ck_assert_int_eq(run(argv, &r), 0);
	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	all = tu_json_lines(r.out, &bad);
	ck_assert_int_eq(bad, 0);
	cJSON_ArrayForEach(a, all) {
		ck_assert_str_eq(tu_json_str(a, "detector"), "intel.match");
		ck_assert_str_eq(tu_json_str(a, "details.indicator"), id);
		ck_assert_str_eq(tu_json_str(a, "details.type"), "domain");
		ck_assert_str_eq(tu_json_str(a, "details.matched"), matched);
		ck_assert_str_eq(tu_json_str(a, "proto"), proto);
		ck_assert_str_eq(tu_json_str(a, "src.ip"), "10.10.1.50");
		ck_assert_str_eq(tu_json_str(a, "dst.ip"), dst);
		ck_assert_str_eq(tu_json_str(a, "technique"), "T0869");
		n++;
	}
	cJSON_Delete(all);
	tu_result_free(&r);
	return n;
}

/* The server_name of a real ClientHello, to 443 and to 8883 (MQTT/TLS). */
START_TEST(agent_matches_tls_sni)
{
	uint8_t hello[8192];
	char b[300], pc[300], other[300];
	size_t n;
	char *extra[] = { (char *)"--version", (char *)"7", (char *)"--indicator",
	    (char *)"domain:evil.example:high:T0869", NULL };

	tools();
	tpath(b, sizeof(b), "sni.signed");
	make_bundle(b, k1, extra);
	n = real_client_hello("c2.evil.example", hello, sizeof(hello));
	tpath(pc, sizeof(pc), "sni.pcap");
	write_tcp_pcap(pc, "203.0.113.9", 443, hello, n);
	ck_assert_int_eq(domain_matches(pc, b, "soc-7-1", "tls_sni", "tls",
	    "203.0.113.9"), 1);
	write_tcp_pcap(pc, "203.0.113.9", 8883, hello, n);
	ck_assert_int_eq(domain_matches(pc, b, "soc-7-1", "tls_sni", "tls",
	    "203.0.113.9"), 1);
	/* another name: nothing */
	n = real_client_hello("good.example", hello, sizeof(hello));
	tpath(other, sizeof(other), "sni-other.pcap");
	write_tcp_pcap(other, "203.0.113.9", 443, hello, n);
	ck_assert_int_eq(domain_matches(other, b, "soc-7-1", "tls_sni", "tls",
	    "203.0.113.9"), 0);
}
END_TEST

/* A DNS query over TCP (length-prefixed) to port 53. */
START_TEST(agent_matches_dns_tcp)
{
	uint8_t m[2 + sizeof(dns_query)];
	char b[300], pc[300];
	char *extra[] = { (char *)"--version", (char *)"8", (char *)"--indicator",
	    (char *)"domain:evil.example:high:T0869", NULL };

	tools();
	tpath(b, sizeof(b), "dnstcp.signed");
	make_bundle(b, k1, extra);
	m[0] = 0;
	m[1] = sizeof(dns_query);
	memcpy(m + 2, dns_query, sizeof(dns_query));
	tpath(pc, sizeof(pc), "dnstcp.pcap");
	write_tcp_pcap(pc, "10.10.1.1", 53, m, sizeof(m));
	ck_assert_int_eq(domain_matches(pc, b, "soc-8-1", "dns_query", "dns",
	    "10.10.1.1"), 1);
	/* the same bytes to another port are no DNS: nothing */
	write_tcp_pcap(pc, "10.10.1.1", 5353, m, sizeof(m));
	ck_assert_int_eq(domain_matches(pc, b, "soc-8-1", "dns_query", "dns",
	    "10.10.1.1"), 0);
}
END_TEST

/* A domain indicator and a DNS query for a name under it. */
START_TEST(agent_matches_dns_query)
{
	char b[300], dns[300];
	struct tu_result r;
	cJSON *all, *a;
	int bad = 0, n = 0;
	char *extra[] = { (char *)"--version", (char *)"6", (char *)"--indicator",
	    (char *)"domain:evil.example:high:T0869", NULL };
	char *argv[] = { agent_bin, (char *)"-c", conf, (char *)"-r", dns,
	    (char *)"--intel", b, (char *)"--alerts-out", (char *)"-", NULL };

	tools();
	tpath(dns, sizeof(dns), "dns.pcap");
	write_dns_pcap(dns);
	tpath(b, sizeof(b), "dom.signed");
	make_bundle(b, k1, extra);
	ck_assert_int_eq(run(argv, &r), 0);
	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	all = tu_json_lines(r.out, &bad);
	cJSON_ArrayForEach(a, all) {
		ck_assert_str_eq(tu_json_str(a, "detector"), "intel.match");
		ck_assert_str_eq(tu_json_str(a, "details.indicator"), "soc-6-1");
		ck_assert_str_eq(tu_json_str(a, "details.type"), "domain");
		ck_assert_str_eq(tu_json_str(a, "details.matched"), "dns_query");
		ck_assert_str_eq(tu_json_str(a, "src.ip"), "10.10.1.50");
		ck_assert_str_eq(tu_json_str(a, "technique"), "T0869");
		n++;
	}
	ck_assert_int_eq(n, 1);
	cJSON_Delete(all);
	tu_result_free(&r);
}
END_TEST

/*
 * The applied version survives a restart: with [agent] state_file the
 * agent keeps the highest version in STATE.intel, so an older --intel
 * file is refused at the next start (a rollback), the same version is
 * taken again, and without the file the older one would pass.
 */
START_TEST(agent_refuses_rollback_after_restart)
{
	char b6[300], b4[300], dns[300], conf2[300], state[300], vfile[320];
	char *text;
	struct tu_result r;
	size_t len;
	FILE *f;
	char *e6[] = { (char *)"--version", (char *)"6", (char *)"--indicator",
	    (char *)"domain:evil.example:high:T0869", NULL };
	char *e4[] = { (char *)"--version", (char *)"4", (char *)"--indicator",
	    (char *)"domain:evil.example:high:T0869", NULL };
	char *argv[] = { agent_bin, (char *)"-c", conf2, (char *)"-r", dns,
	    (char *)"--intel", NULL, (char *)"--alerts-out", (char *)"-", NULL };

	tools();
	tpath(dns, sizeof(dns), "dns.pcap");
	write_dns_pcap(dns);
	tpath(b6, sizeof(b6), "v6.signed");
	make_bundle(b6, k1, e6);
	tpath(b4, sizeof(b4), "v4.signed");
	make_bundle(b4, k1, e4);
	tpath(state, sizeof(state), "agent.state");
	snprintf(vfile, sizeof(vfile), "%s.intel", state);
	tpath(conf2, sizeof(conf2), "agent-state.conf");
	f = fopen(conf2, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[agent]\nname = gw-b\nsite = plant-b\nalert_window = 0\n"
	    "state_file = %s\n[intel]\nkeys = %s\n", state, k1pub);
	fclose(f);
	/* first start: version 6 applied and persisted */
	argv[6] = b6;
	ck_assert_int_eq(run(argv, &r), 0);
	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	ck_assert(tu_contains(r.err, "intel: applied fleet bundle version 6"));
	ck_assert(tu_contains(r.out, "\"indicator\":\"soc-6-1\""));
	tu_result_free(&r);
	text = tu_read_file(vfile, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "fleet 6\nsite plant-b 0\n");
	free(text);
	/* restart with version 4: refused, nothing matches */
	argv[6] = b4;
	ck_assert_int_eq(run(argv, &r), 0);
	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "older-version: version 4 is older "
	    "than version 6 applied before (persisted in"), "%s", r.err);
	ck_assert(tu_contains(r.err, "the running policy stays"));
	ck_assert(!tu_contains(r.err, "intel: applied"));
	ck_assert(!tu_contains(r.out, "intel.match"));
	tu_result_free(&r);
	/* the same version at the next start is no rollback */
	argv[6] = b6;
	ck_assert_int_eq(run(argv, &r), 0);
	ck_assert(tu_contains(r.err, "intel: applied fleet bundle version 6"));
	ck_assert(tu_contains(r.out, "\"indicator\":\"soc-6-1\""));
	tu_result_free(&r);
	/* no state file: nothing persisted, version 4 applies */
	argv[2] = conf;
	argv[6] = b4;
	ck_assert_int_eq(run(argv, &r), 0);
	ck_assert(tu_contains(r.err, "intel: applied fleet bundle version 4"));
	ck_assert(tu_contains(r.out, "\"indicator\":\"soc-4-1\""));
	tu_result_free(&r);
	/* an unreadable version file stops the start rather than forget */
	ck_assert_int_eq(tu_write_file(vfile, "garbage\n", 8), 0);
	argv[2] = conf2;
	ck_assert_int_eq(run(argv, &r), 0);
	ck_assert_int_ne(r.exit_code, 0);
	ck_assert_msg(tu_contains(r.err, "unreadable line"), "%s", r.err);
	tu_result_free(&r);
}
END_TEST

/* A policy fragment for this site replaces the local [policy] value. */
START_TEST(agent_applies_policy_fragment)
{
	char b[300], b2[300];
	struct tu_result r;
	char *e1[] = { (char *)"--version", (char *)"4", (char *)"--policy",
	    (char *)"plant-b/modbus_writers=10.10.1.250", NULL };
	char *e2[] = { (char *)"--version", (char *)"5", (char *)"--policy",
	    (char *)"plant-b/no_such_key=1", NULL };
	char *argv[] = { agent_bin, (char *)"-c", conf, (char *)"-r", pcap,
	    (char *)"--alerts-out", (char *)"-", NULL };
	int without, with;

	tools();
	ck_assert_int_eq(run(argv, &r), 0);
	without = (int)tu_count_lines(r.out);
	ck_assert(!tu_contains(r.out, "\"detector\":\"modbus.unauthorized_write\""));
	tu_result_free(&r);
	tpath(b, sizeof(b), "pol.signed");
	make_bundle(b, k1, e1);
	replay(b, &r);
	with = (int)tu_count_lines(r.out);
	/* now only 10.10.1.250 may write Modbus: the HMIs' writes alert */
	ck_assert_msg(tu_contains(r.out,
	    "\"detector\":\"modbus.unauthorized_write\""), "%s", r.out);
	ck_assert_int_gt(with, without);
	tu_result_free(&r);
	/* a fragment naming no [policy] key: refused at apply, nothing changes */
	tpath(b2, sizeof(b2), "pol-bad.signed");
	make_bundle(b2, k1, e2);
	replay(b2, &r);
	ck_assert(tu_contains(r.err, "intel: refused bundle from the reload"));
	ck_assert(tu_contains(r.err, "no_such_key"));
	ck_assert_int_eq((int)tu_count_lines(r.out), without);
	tu_result_free(&r);
}
END_TEST

/* 100,000 indicators: built in bounded time, every one found. */
START_TEST(large_bundle)
{
	const struct intel_bundle *pair[2];
	struct intel_bundle *b;
	struct intel_set *s;
	char *text, *p, err[256];
	size_t cap = 100000 * 80 + 256, i;
	uint8_t a[4];

	text = malloc(cap);
	p = text + sprintf(text, "{\"format\":\"icsentry-intel/1\",\"version\":1,"
	    "\"indicators\":[");
	for (i = 0; i < 100000; i++)
		p += sprintf(p, "%s{\"id\":\"i%zu\",\"type\":\"ip\",\"value\":"
		    "\"172.%zu.%zu.%zu\"}", i ? "," : "", i, 16 + i / 65536,
		    (i / 256) % 256, i % 256);
	strcpy(p, "]}");
	ck_assert_msg(intel_bundle_parse(text, strlen(text), &b, err,
	    sizeof(err)) == INTEL_OK, "%s", err);
	pair[0] = b;
	pair[1] = NULL;
	s = intel_set_build(pair, 2, intel_now_us());
	ck_assert_uint_eq(intel_set_count(s), 100000);
	for (i = 0; i < 100000; i += 997) {
		char want[32];

		a[0] = 172;
		a[1] = (uint8_t)(16 + i / 65536);
		a[2] = (uint8_t)((i / 256) % 256);
		a[3] = (uint8_t)(i % 256);
		snprintf(want, sizeof(want), "i%zu", i);
		ck_assert_str_eq(intel_match_ip(s, 4, a)->id, want);
	}
	a[0] = 10;
	ck_assert_ptr_null(intel_match_ip(s, 4, a));
	intel_set_free(s);
	intel_bundle_free(b);
	free(text);
}
END_TEST

static Suite *
intel_suite(void)
{
	Suite *s = suite_create("intel");
	TCase *t = tcase_create("bundle");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 120);	/* 100,000 indicators under ASan */
	tcase_add_test(t, canonical_sorted_compact);
	tcase_add_test(t, canonical_refuses_ambiguity);
	tcase_add_test(t, sign_verify_roundtrip);
	tcase_add_test(t, refuses_unsigned);
	tcase_add_test(t, refuses_wrong_key_and_tampering);
	tcase_add_test(t, refuses_expired);
	tcase_add_test(t, refuses_malformed);
	tcase_add_test(t, key_rotation);
	tcase_add_test(t, version_and_site_scope);
	tcase_add_test(t, rfc3339_forms);
	tcase_add_test(t, set_matches_each_kind);
	tcase_add_test(t, set_two_scopes);
	tcase_add_test(t, large_bundle);
	tcase_add_test(t, dns_name);
	tcase_add_loop_test(t, dns_name_truncated, 0, (int)sizeof(dns_query));
	tcase_add_test(t, dns_tcp_name);
	tcase_add_test(t, tls_sni_real_hello);
	tcase_add_test(t, tls_sni_crafted);
	suite_add_tcase(s, t);
	t = tcase_create("agent");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 300);
	tcase_add_test(t, tool_keygen_modes);
	tcase_add_test(t, agent_applies_file_bundle);
	tcase_add_test(t, agent_refuses_bad_bundles);
	tcase_add_test(t, agent_applies_policy_fragment);
	tcase_add_test(t, agent_matches_dns_query);
	tcase_add_test(t, agent_refuses_rollback_after_restart);
	tcase_add_test(t, agent_matches_tls_sni);
	tcase_add_test(t, agent_matches_dns_tcp);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(intel_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
