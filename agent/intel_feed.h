/*
 * intel_feed.h - the agent's side of threat-intelligence bundles (issue
 * 17): the [intel] section, the SOC's public keys, and the hand-over of a
 * verified bundle from whichever thread received it (Paho's, for MQTT) to
 * the capture thread, which applies it like a SIGHUP reload.
 *
 * Two scopes are held at once: the fleet bundle (icsentry/intel/fleet) and
 * this site's (icsentry/intel/site/<site>); each only moves forward in
 * version.  Verifying and building the lookup tables happen in
 * intel_feed_offer(), off the capture thread; the capture thread only
 * swaps a pointer (intel_feed_take) and rebuilds the detectors.
 */
#ifndef ICSENTRY_AGENT_INTEL_FEED_H
#define ICSENTRY_AGENT_INTEL_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct cfg_schema;
struct intel_set;
struct intel_bundle;

/* [intel]: keys (public key files), bundle (a signed bundle file),
 * subscribe, startup_wait. */
extern const struct cfg_schema intel_feed_schema;

/* One log line (no newline) and the retained status JSON. */
typedef void (*intel_log_fn)(void *arg, const char *line);
typedef void (*intel_status_fn)(void *arg, const char *json, size_t len);

struct intel_feed;

/*
 * Read [intel] keys from c.  NULL with err on an unreadable or non-Ed25519
 * key file.  With no keys configured the feed exists but refuses every
 * bundle (nothing can be verified).
 */
struct intel_feed *intel_feed_new(const struct cfg *c, const char *site,
    intel_log_fn log, void *log_arg, char *err, size_t errlen);
void intel_feed_free(struct intel_feed *f);

/* Where status JSON goes (MQTT); may be set later, from the same thread. */
void intel_feed_set_status(struct intel_feed *f, intel_status_fn fn,
    void *arg);

/* Keys held (0: intel is off). */
size_t intel_feed_keys(const struct intel_feed *f);

/*
 * A signed bundle arrived (origin: a topic or a file name, for the log).
 * Any thread.  Verifies it, checks scope and version against what is
 * applied or waiting, builds the lookup tables and leaves the result for
 * the capture thread.  Refusals are logged ("intel: refused ... from
 * ORIGIN: older-version: ...") and reported as status; the running
 * policy stays.  The version already in force arriving again (the
 * broker re-sends retained bundles on every subscription) is ignored
 * quietly.  Returns 0 (accepted, pending) or the refusal reason (enum
 * intel_status; INTEL_OLDER also for the quiet case).
 */
int intel_feed_offer(struct intel_feed *f, const char *origin,
    const void *data, size_t len);

/* Read a signed bundle file and offer it.  0 or the refusal reason. */
int intel_feed_offer_file(struct intel_feed *f, const char *path);

/* Is a verified bundle waiting for the capture thread?  Cheap. */
bool intel_feed_pending(const struct intel_feed *f);

/*
 * Capture thread: take the waiting bundles over for applying (true), or
 * false when none waits.  Then intel_feed_each_policy/intel_feed_set with
 * pending = true read them, and intel_feed_commit ends the apply.
 */
bool intel_feed_begin(struct intel_feed *f);

/*
 * The policy fragments that apply to this site in the bundles being
 * applied (pending = true, after intel_feed_begin) or applied, for the reload: fn is called for
 * each (key, value); fleet first, then the site's bundle, so the site's
 * word wins.
 */
void intel_feed_each_policy(struct intel_feed *f, bool pending,
    void (*fn)(void *arg, const char *key, const char *value,
    uint64_t version), void *arg);

/* The lookup tables of the bundles being applied (or applied), or NULL. */
const struct intel_set *intel_feed_set(struct intel_feed *f, bool pending);

/*
 * Capture thread, after rebuilding the detectors with the pending set:
 * ok = the pending bundles are now applied (reported on the status
 * topic); !ok = the rebuild refused them (why), the applied ones stay.
 */
void intel_feed_commit(struct intel_feed *f, bool ok, const char *why);

/* Applied versions (0 = none) and indicator count. */
void intel_feed_versions(const struct intel_feed *f, uint64_t *fleet,
    uint64_t *site, size_t *indicators);

#endif
