/*
 * intel_feed.c - verified threat-intelligence bundles, handed from the
 * thread that received them to the capture thread.  See intel_feed.h.
 *
 * States are immutable once built: {fleet bundle, site bundle, lookup
 * tables}.  A bundle is shared by consecutive states (a new fleet bundle
 * keeps the site's), so bundles are reference counted.  Three states may
 * exist at once: applied (the detectors use its tables), applying (taken
 * by the capture thread, being rebuilt into the detectors) and pending
 * (verified, waiting).  Only the capture thread frees applied or applying
 * states, and only after the detectors let go of their tables.
 */
#include "agent/intel_feed.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "lib/atomic.h"
#include "lib/cfg.h"
#include "lib/intel_bundle.h"
#include "lib/rfc3339.h"
#include "lib/log.h"

static const struct cfg_key intel_keys[] = {
	{ "keys", CFG_LIST, NULL, 0, 0, "the SOC's Ed25519 public keys (PEM files); several during a key rotation. None: bundles are refused" },
	{ "bundle", CFG_STR, NULL, 0, 0, "a signed bundle file to apply at start (offline sites); --intel FILE" },
	{ "subscribe", CFG_BOOL, "true", 0, 0, "with MQTT and keys: take bundles from icsentry/intel/fleet and icsentry/intel/site/<site>" },
	{ "startup_wait", CFG_DOUBLE, "0", 0, 60, "seconds to wait at start for the retained bundles before capturing" },
	{ "version_file", CFG_STR, NULL, 0, 0, "where the highest applied bundle versions persist, so an older bundle is refused after a restart (default: [agent] state_file + .intel; empty with no state_file: not persisted)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

const struct cfg_schema intel_feed_schema = { "intel", intel_keys };

struct bref {
	struct intel_bundle	*b;
	int			 refs;
};

struct istate {
	struct bref		*b[2];		/* [0] fleet, [1] this site */
	struct intel_set	*set;
};

struct intel_feed {
	pthread_mutex_t		 mu;		/* states, status */
	pthread_mutex_t		 offer_mu;	/* one offer at a time */
	struct intel_keyring	*kr;
	char			 site[128];
	struct istate		*applied, *applying, *pending;
	atomic_bool		 has_pending;
	intel_log_fn		 log;
	void			*log_arg;
	intel_status_fn		 status;
	void			*status_arg;
	char			 refused[512];	/* last refusal, JSON or "" */
	uint64_t		 nrefused;
	/*
	 * The highest versions ever applied ([0] fleet, [1] this site), read
	 * from and written to vpath (atomically) so that a restart does not
	 * reopen the door to a rollback.  Under mu.
	 */
	char			 vpath[4096];	/* "" = not persisted */
	uint64_t		 floor[2];
};

static void
say(struct intel_feed *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(struct intel_feed *f, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (f->log != NULL)
		f->log(f->log_arg, line);
	else
		log_info("%s\n", line);
}

static void
bref_put(struct bref *r)
{
	if (r != NULL && --r->refs == 0) {
		intel_bundle_free(r->b);
		free(r);
	}
}

/* Caller holds mu (the refcounts are under it). */
static void
state_free(struct istate *s)
{
	if (s == NULL)
		return;
	intel_set_free(s->set);
	bref_put(s->b[0]);
	bref_put(s->b[1]);
	free(s);
}

/*
 * The version file: "fleet N\nsite NAME N\n".  A site line for another
 * site (the agent was moved) does not hold this site back.
 */
static int
versions_init(struct intel_feed *f, const struct cfg *c, char *err,
    size_t errlen)
{
	const char *vf = cfg_str(c, "intel", "version_file");
	const char *sf = cfg_str(c, "agent", "state_file");
	char line[512], name[256];
	unsigned long long v;
	FILE *fp;

	if (vf[0] != '\0')
		snprintf(f->vpath, sizeof(f->vpath), "%s", vf);
	else if (sf[0] != '\0')
		snprintf(f->vpath, sizeof(f->vpath), "%s.intel", sf);
	if (f->vpath[0] == '\0')
		return 0;
	fp = fopen(f->vpath, "r");
	if (fp == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: [intel] version_file %s: %s",
		    cfg_path(c), f->vpath, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "fleet %llu", &v) == 1)
			f->floor[0] = (uint64_t)v;
		else if (sscanf(line, "site %255s %llu", name, &v) == 2) {
			if (strcmp(name, f->site) == 0)
				f->floor[1] = (uint64_t)v;
		} else if (line[0] != '\n' && line[0] != '#') {
			fclose(fp);
			snprintf(err, errlen, "%s: [intel] version_file %s: "
			    "unreadable line (refusing to forget the applied "
			    "versions; fix or remove the file)", cfg_path(c),
			    f->vpath);
			return -1;
		}
	}
	fclose(fp);
	return 0;
}

/* Raise the floor to what s holds and write it out if it moved.  Under mu. */
static void
versions_save(struct intel_feed *f, const struct istate *s)
{
	char text[512];
	bool moved = false;
	int k, n;

	for (k = 0; k < 2; k++)
		if (s->b[k] != NULL && s->b[k]->b->version > f->floor[k]) {
			f->floor[k] = s->b[k]->b->version;
			moved = true;
		}
	if (!moved || f->vpath[0] == '\0')
		return;
	n = snprintf(text, sizeof(text), "fleet %" PRIu64 "\nsite %s %" PRIu64
	    "\n", f->floor[0], f->site, f->floor[1]);
	if (atomic_write(f->vpath, text, (size_t)n, false) != 0)
		say(f, "intel: cannot persist the applied versions to %s: %s "
		    "(an older bundle would be accepted after a restart)",
		    f->vpath, strerror(errno));
}

struct intel_feed *
intel_feed_new(const struct cfg *c, const char *site, intel_log_fn log,
    void *log_arg, char *err, size_t errlen)
{
	const struct cfg_list *keys = cfg_list(c, "intel", "keys");
	struct intel_feed *f;
	size_t i;

	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->kr = intel_keyring_new()) == NULL) {
		free(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&f->mu, NULL);
	pthread_mutex_init(&f->offer_mu, NULL);
	snprintf(f->site, sizeof(f->site), "%s", site);
	f->log = log;
	f->log_arg = log_arg;
	if (versions_init(f, c, err, errlen) != 0) {
		intel_feed_free(f);
		return NULL;
	}
	for (i = 0; keys != NULL && i < keys->n; i++)
		if (intel_keyring_add_file(f->kr, keys->v[i], err, errlen) != 0) {
			char why[512];

			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "%s: [intel] keys: %s", cfg_path(c), why);
			intel_feed_free(f);
			return NULL;
		}
	return f;
}

void
intel_feed_free(struct intel_feed *f)
{
	if (f == NULL)
		return;
	state_free(f->applied);
	state_free(f->applying);
	state_free(f->pending);
	intel_keyring_free(f->kr);
	pthread_mutex_destroy(&f->mu);
	pthread_mutex_destroy(&f->offer_mu);
	free(f);
}

void
intel_feed_set_status(struct intel_feed *f, intel_status_fn fn, void *arg)
{
	pthread_mutex_lock(&f->mu);
	f->status = fn;
	f->status_arg = arg;
	pthread_mutex_unlock(&f->mu);
}

size_t
intel_feed_keys(const struct intel_feed *f)
{
	return f != NULL ? intel_keyring_count(f->kr) : 0;
}

static cJSON *
scope_json(const struct bref *r)
{
	cJSON *o;
	char ts[32];

	if (r == NULL)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "version", (double)r->b->version);
	cJSON_AddNumberToObject(o, "indicators", (double)r->b->nind);
	cJSON_AddNumberToObject(o, "policy", (double)r->b->npol);
	cJSON_AddStringToObject(o, "key_id", r->b->key_id);
	if (r->b->expires_us != 0)
		cJSON_AddStringToObject(o, "expires", rfc3339_format((uint64_t)(r->b->expires_us), ts, sizeof(ts)));
	return o;
}

/* The retained status: what is applied, and the last refusal.  Under mu. */
static void
publish_status(struct intel_feed *f)
{
	const struct istate *a = f->applied;
	char *text, ts[32];
	cJSON *o;

	if (f->status == NULL)
		return;
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "fleet", scope_json(a != NULL ? a->b[0] : NULL));
	cJSON_AddItemToObject(o, "site", scope_json(a != NULL ? a->b[1] : NULL));
	cJSON_AddNumberToObject(o, "indicators", (double)intel_set_count(
	    a != NULL ? a->set : NULL));
	cJSON_AddStringToObject(o, "at", rfc3339_format((uint64_t)(intel_now_us()), ts,
	    sizeof(ts)));
	cJSON_AddNumberToObject(o, "refused", (double)f->nrefused);
	if (f->refused[0] != '\0')
		cJSON_AddItemToObject(o, "last_refusal", cJSON_Parse(f->refused));
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text != NULL)
		f->status(f->status_arg, text, strlen(text));
	cJSON_free(text);
}

static void
refuse(struct intel_feed *f, const char *origin, enum intel_status st,
    const char *why)
{
	char ts[32];
	cJSON *o;
	char *text;

	say(f, "intel: refused bundle from %s: %s: %s; the running policy stays",
	    origin, intel_status_name(st), why);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "origin", origin);
	cJSON_AddStringToObject(o, "reason", intel_status_name(st));
	cJSON_AddStringToObject(o, "detail", why);
	cJSON_AddStringToObject(o, "at", rfc3339_format((uint64_t)(intel_now_us()), ts,
	    sizeof(ts)));
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	pthread_mutex_lock(&f->mu);
	f->nrefused++;
	snprintf(f->refused, sizeof(f->refused), "%s", text != NULL ? text : "");
	publish_status(f);
	pthread_mutex_unlock(&f->mu);
	cJSON_free(text);
}

int
intel_feed_offer(struct intel_feed *f, const char *origin, const void *data,
    size_t len)
{
	const struct intel_bundle *pair[2];
	struct intel_bundle *b = NULL;
	struct istate *base, *ns = NULL, *old;
	struct bref *r = NULL;
	enum intel_status st;
	char err[512];
	uint64_t applied_v;
	int slot;

	pthread_mutex_lock(&f->offer_mu);
	if (intel_keyring_count(f->kr) == 0) {
		refuse(f, origin, INTEL_BADSIG, "no [intel] keys configured");
		pthread_mutex_unlock(&f->offer_mu);
		return INTEL_BADSIG;
	}
	st = intel_verify(data, len, f->kr, intel_now_us(), &b, err, sizeof(err));
	if (st != INTEL_OK)
		goto refused;
	slot = b->site != NULL ? 1 : 0;
	ns = calloc(1, sizeof(*ns));
	r = calloc(1, sizeof(*r));
	if (ns == NULL || r == NULL) {
		st = INTEL_MALFORMED;
		snprintf(err, sizeof(err), "out of memory");
		goto refused;
	}
	pthread_mutex_lock(&f->mu);
	/* a newer version than anything applied, being applied or waiting */
	base = f->pending != NULL ? f->pending : f->applying != NULL ?
	    f->applying : f->applied;
	applied_v = base != NULL && base->b[slot] != NULL ?
	    base->b[slot]->b->version : 0;
	st = intel_check_scope(b, f->site, applied_v, err, sizeof(err));
	/*
	 * After a restart nothing is applied yet, but the versions applied
	 * before it still bind: the same version again is fine (the file
	 * or the retained message applied at every start), older is not.
	 */
	if (st == INTEL_OK && b->version < f->floor[slot]) {
		st = INTEL_OLDER;
		snprintf(err, sizeof(err), "version %" PRIu64 " is older than "
		    "version %" PRIu64 " applied before (persisted in %.200s)",
		    b->version, f->floor[slot], f->vpath);
	}
	if (st == INTEL_OK) {
		r->b = b;
		r->refs = 1;
		ns->b[slot] = r;
		b = NULL;
		r = NULL;
		if (base != NULL && base->b[!slot] != NULL) {
			ns->b[!slot] = base->b[!slot];
			ns->b[!slot]->refs++;
		}
	}
	pthread_mutex_unlock(&f->mu);
	/*
	 * The version in force again: the broker re-sends retained bundles
	 * on every (re)subscription.  Not a rollback; nothing to say.
	 */
	if (st == INTEL_OLDER && b->version == applied_v) {
		intel_bundle_free(b);
		free(r);
		free(ns);
		pthread_mutex_unlock(&f->offer_mu);
		return INTEL_OLDER;
	}
	if (st != INTEL_OK)
		goto refused;
	/* the expensive part, off the capture thread */
	pair[0] = ns->b[0] != NULL ? ns->b[0]->b : NULL;
	pair[1] = ns->b[1] != NULL ? ns->b[1]->b : NULL;
	ns->set = intel_set_build(pair, 2, intel_now_us());
	if (ns->set == NULL) {
		st = INTEL_MALFORMED;
		snprintf(err, sizeof(err), "out of memory building the tables");
		pthread_mutex_lock(&f->mu);
		state_free(ns);
		pthread_mutex_unlock(&f->mu);
		ns = NULL;
		goto refused;
	}
	say(f, "intel: bundle version %" PRIu64 " (%s) from %s: good signature "
	    "by key %s, %zu indicator(s), %zu policy fragment(s); applying",
	    ns->b[slot]->b->version, slot ? f->site : "fleet", origin,
	    ns->b[slot]->b->key_id, ns->b[slot]->b->nind, ns->b[slot]->b->npol);
	pthread_mutex_lock(&f->mu);
	old = f->pending;
	f->pending = ns;
	state_free(old);
	atomic_store(&f->has_pending, true);
	pthread_mutex_unlock(&f->mu);
	pthread_mutex_unlock(&f->offer_mu);
	return 0;
refused:
	refuse(f, origin, st, err);
	intel_bundle_free(b);
	free(r);
	free(ns);
	pthread_mutex_unlock(&f->offer_mu);
	return st;
}

int
intel_feed_offer_file(struct intel_feed *f, const char *path)
{
	char *buf = NULL, *nb;
	size_t n = 0, cap = 0, got;
	FILE *fp;
	int rc;

	fp = fopen(path, "rb");
	if (fp == NULL) {
		char why[300];

		snprintf(why, sizeof(why), "%s", strerror(errno));
		refuse(f, path, INTEL_MALFORMED, why);
		return INTEL_MALFORMED;
	}
	for (;;) {
		if (n + 65536 > cap) {
			cap = cap == 0 ? 131072 : 2 * cap;
			if (cap > 2 * (size_t)INTEL_MAX_BYTES ||
			    (nb = realloc(buf, cap)) == NULL)
				break;
			buf = nb;
		}
		got = fread(buf + n, 1, 65536, fp);
		if (got == 0)
			break;
		n += got;
	}
	fclose(fp);
	rc = intel_feed_offer(f, path, buf != NULL ? buf : "", n);
	free(buf);
	return rc;
}

bool
intel_feed_pending(const struct intel_feed *f)
{
	return f != NULL && atomic_load_explicit(&((struct intel_feed *)f)->has_pending,
	    memory_order_relaxed);
}

bool
intel_feed_begin(struct intel_feed *f)
{
	bool got = false;

	if (!intel_feed_pending(f))
		return false;
	pthread_mutex_lock(&f->mu);
	if (f->pending != NULL) {
		state_free(f->applying);	/* a begin without commit */
		f->applying = f->pending;
		f->pending = NULL;
		got = true;
	}
	atomic_store(&f->has_pending, false);
	pthread_mutex_unlock(&f->mu);
	return got;
}

/* Only the capture thread changes applying and applied: no lock needed
 * to read them there, but the offering thread reads them under mu. */
static struct istate *
working(struct intel_feed *f, bool pending)
{
	struct istate *s;

	pthread_mutex_lock(&f->mu);
	s = pending && f->applying != NULL ? f->applying : f->applied;
	pthread_mutex_unlock(&f->mu);
	return s;
}

void
intel_feed_each_policy(struct intel_feed *f, bool pending,
    void (*fn)(void *arg, const char *key, const char *value,
    uint64_t version), void *arg)
{
	const struct istate *s;
	size_t i;
	int k;

	if (f == NULL)
		return;
	s = working(f, pending);
	if (s == NULL)
		return;
	for (k = 0; k < 2; k++) {
		const struct intel_bundle *b = s->b[k] != NULL ? s->b[k]->b : NULL;

		for (i = 0; b != NULL && i < b->npol; i++)
			if (b->pol[i].site == NULL ||
			    strcmp(b->pol[i].site, f->site) == 0)
				fn(arg, b->pol[i].key, b->pol[i].value, b->version);
	}
}

const struct intel_set *
intel_feed_set(struct intel_feed *f, bool pending)
{
	const struct istate *s;

	if (f == NULL)
		return NULL;
	s = working(f, pending);
	return s != NULL ? s->set : NULL;
}

void
intel_feed_commit(struct intel_feed *f, bool ok, const char *why)
{
	struct istate *s;
	const struct bref *r;
	int k;

	pthread_mutex_lock(&f->mu);
	s = f->applying;
	f->applying = NULL;
	if (s == NULL) {
		pthread_mutex_unlock(&f->mu);
		return;
	}
	if (!ok) {
		state_free(s);
		pthread_mutex_unlock(&f->mu);
		refuse(f, "the reload", INTEL_MALFORMED, why);
		return;
	}
	state_free(f->applied);
	f->applied = s;
	versions_save(f, s);
	for (k = 0; k < 2; k++)
		if ((r = s->b[k]) != NULL)
			say(f, "intel: applied %s bundle version %" PRIu64 " (%zu "
			    "indicator(s) in force in all)", k ? f->site : "fleet",
			    r->b->version, intel_set_count(s->set));
	publish_status(f);
	pthread_mutex_unlock(&f->mu);
}

void
intel_feed_versions(const struct intel_feed *f, uint64_t *fleet,
    uint64_t *site, size_t *indicators)
{
	struct intel_feed *ff = (struct intel_feed *)f;
	const struct istate *s;

	*fleet = *site = 0;
	*indicators = 0;
	if (f == NULL)
		return;
	pthread_mutex_lock(&ff->mu);
	s = ff->applied;
	if (s != NULL) {
		*fleet = s->b[0] != NULL ? s->b[0]->b->version : 0;
		*site = s->b[1] != NULL ? s->b[1]->b->version : 0;
		*indicators = intel_set_count(s->set);
	}
	pthread_mutex_unlock(&ff->mu);
}
