/*
 * registry.c - every detector the agent runs.  A new detector is one new
 * file and one line here.
 */
#include "detectors/detector.h"

extern const struct detector det_arp;
extern const struct detector det_scan;
extern const struct detector det_flood;
extern const struct detector det_remote;
extern const struct detector det_modbus;
extern const struct detector det_dnp3;
extern const struct detector det_roles;
extern const struct detector det_points;
extern const struct detector det_stackfp;
extern const struct detector det_channel;
extern const struct detector det_cycle;
extern const struct detector det_envelope;
extern const struct detector det_replay;
extern const struct detector det_conv;
extern const struct detector det_bacnet_iam;
extern const struct detector det_enip_session;
extern const struct detector det_s7;
extern const struct detector det_iec104;
extern const struct detector det_enip;
extern const struct detector det_bacnet;
extern const struct detector det_opcua;
extern const struct detector det_fins;
extern const struct detector det_goose;
extern const struct detector det_mms;
extern const struct detector det_profinet;
extern const struct detector det_mqtt;
extern const struct detector det_malformed;
extern const struct detector det_baseline;
extern const struct detector det_assets;
extern const struct detector det_intel_match;

const struct detector *const det_registry[] = {
	&det_arp,
	&det_scan,
	&det_flood,
	&det_remote,
	&det_modbus,
	&det_dnp3,
	&det_roles,
	&det_points,
	&det_stackfp,
	&det_channel,
	&det_cycle,
	&det_envelope,
	&det_replay,
	&det_conv,
	&det_s7,
	&det_iec104,
	&det_enip,
	&det_enip_session,
	&det_bacnet,
	&det_bacnet_iam,
	&det_opcua,
	&det_fins,
	&det_goose,
	&det_mms,
	&det_profinet,
	&det_mqtt,
	&det_malformed,
	&det_baseline,
	&det_assets,
	&det_intel_match,
	NULL
};
