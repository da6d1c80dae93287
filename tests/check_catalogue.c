/*
 * check_catalogue.c - single-technique scenarios (tests/gen_catalogue.py)
 * through the real agent ($ICSENTRY_BUILD/icsentry-agent) with a policy
 * that names the legitimate master 10.10.1.20 as the only writer, master
 * and discovery host of every protocol.
 *
 * What is asserted is the alert each principle stands for: a request that
 * changes state or reads identity from a host the policy does not name
 * (BACnet Who-Is, TimeSynchronization, device identity reads; S7 set
 * clock and block lists; FINS clock and
 * parameter writes), a firmware/file download (CIP File object), and the
 * technique by context (DNP3 time write T0849, disable unsolicited T0815
 * + T0878,
 * activate configuration T0836; BACnet AtomicWriteFile T0843 and event-
 * enable writes T0878), floods judged per message against the server's
 * rate (channel.rate), read sweeps (points.read_sweep), S7 password
 * guessing and Modbus diagnostics by sub-function; OPC UA services by
 * their bodies (BuildInfo reads, method calls, address space changes,
 * numeric vs Boolean writes, refused session activations), DNP3 file
 * commands by their g70v3 mode, the UMAS transfer direction, and setpoint
 * writes with no learned range (holding registers, DB values).  Alerts raised by the same packet fold into one
 * (the lead's "correlated" list keeps the others): a finding counts when
 * it leads or is correlated.  The benign background, the legitimate
 * master polling, raises nothing of severity low or above.
 *
 * The unchecked fixture generates and replays once; the forked tests
 * inherit the results.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"
#include "tests/testutil_agent.h"

#define RUN_MS		(120 * 1000)
#define LEGIT		"10.10.1.20"
#define ATTACKER	"10.10.1.66"
#define PLC		"10.10.1.50"

static char dir[512], conf[600];

static struct {
	int	 gen_rc;
	cJSON	*index;
} fx;

static cJSON *
replay(const char *pcap)
{
	char path[600];
	char *argv[] = { (char *)tu_agent_path(path, sizeof(path)), "-c", conf,
	    "-r", (char *)pcap, "--alerts-out", "-", NULL };
	struct tu_result r;
	cJSON *arr = NULL;

	tu_run(argv, NULL, RUN_MS, &r);
	if (r.exit_code == 0)
		arr = tu_json_lines(r.out, NULL);
	tu_result_free(&r);
	return arr;
}

static void
setup(void)
{
	static const char *const keys[] = { "modbus_writers", "dnp3_masters",
		"iec104_masters", "s7_writers", "enip_writers", "bacnet_writers",
		"opcua_writers", "fins_writers", "mms_writers",
		"discovery_allowed", NULL };
	char text[1024], idx[600], gen[] = "tests/gen_catalogue.py";
	char env[] = "/usr/bin/env", py[] = "python3";
	char *argv[] = { env, py, gen, dir, NULL };
	struct tu_result r;
	size_t n;
	char *t;
	int i;

	if (tu_mkdtemp(dir, sizeof(dir), "catalogue") != 0)
		return;
	n = (size_t)snprintf(text, sizeof(text),
	    "[agent]\nname = t\nsite = s\n[policy]\n");
	for (i = 0; keys[i] != NULL; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s = %s\n",
		    keys[i], LEGIT);
	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    "ot_networks = 10.10.1.0/24\n");
	snprintf(conf, sizeof(conf), "%s/policy.conf", dir);
	tu_write_file(conf, text, n);
	tu_run(argv, NULL, RUN_MS, &r);
	fx.gen_rc = r.exit_code;
	if (r.exit_code != 0)
		fprintf(stderr, "gen_catalogue.py: %s\n", r.err);
	tu_result_free(&r);
	snprintf(idx, sizeof(idx), "%s/catalogue.json", dir);
	t = tu_read_file(idx, NULL);
	fx.index = t != NULL ? cJSON_Parse(t) : NULL;
	free(t);
}

static void
teardown(void)
{
	cJSON_Delete(fx.index);
	tu_rmtree(dir);
}

/* The alerts of the scenario whose description starts with desc. */
static cJSON *
scenario(const char *proto, const char *desc)
{
	const cJSON *s;
	char pcap[700];

	ck_assert_int_eq(fx.gen_rc, 0);
	ck_assert_ptr_nonnull(fx.index);
	cJSON_ArrayForEach(s, fx.index) {
		const char *p = tu_json_str(s, "protocol");
		const char *d = tu_json_str(s, "description");

		if (p == NULL || d == NULL || strcmp(p, proto) != 0 ||
		    strncmp(d, desc, strlen(desc)) != 0)
			continue;
		snprintf(pcap, sizeof(pcap), "%s/%s", dir,
		    tu_json_str(s, "pcap"));
		return replay(pcap);
	}
	ck_abort_msg("no scenario %s \"%s\"", proto, desc);
	return NULL;
}

static bool
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* One finding (rule, technique) from the attacker, leading or folded. */
static bool
raised(const cJSON *alerts, const char *rule, const char *tech)
{
	const cJSON *a, *c;

	cJSON_ArrayForEach(a, alerts) {
		if (!same(tu_json_str(a, "src.ip"), ATTACKER))
			continue;
		if (same(tu_json_str(a, "detector"), rule) &&
		    same(tu_json_str(a, "technique"), tech))
			return true;
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(a,
		    "correlated"))
			if (same(tu_json_str(c, "rule"), rule) &&
			    same(tu_json_str(c, "technique"), tech))
				return true;
	}
	return false;
}

/* rule's alert lists tech among its secondary techniques */
static bool
lists(const cJSON *alerts, const char *rule, const char *tech)
{
	const cJSON *a, *t;

	cJSON_ArrayForEach(a, alerts) {
		if (!same(tu_json_str(a, "detector"), rule))
			continue;
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(a,
		    "techniques"))
			if (cJSON_IsString(t) && same(t->valuestring, tech))
				return true;
	}
	return false;
}

/* the scenario's attacker raised rule with technique tech */
static bool
found(const char *proto, const char *desc, const char *rule, const char *tech)
{
	cJSON *al = scenario(proto, desc);
	bool ok;

	ck_assert_ptr_nonnull(al);
	ok = raised(al, rule, tech);
	cJSON_Delete(al);
	return ok;
}

#define ck_assert_found(proto, desc, rule, tech)                            \
	ck_assert_msg(found(proto, desc, rule, tech), "%s \"%s\": no %s/%s", \
	    proto, desc, rule, tech)

START_TEST(bacnet_discovery_time_identity)
{
	ck_assert_found("bacnet", "Who-Is broadcast", "bacnet.discovery", "T0846");
	ck_assert_found("bacnet", "TimeSynchronization", "bacnet.time_sync", "T0849");
	ck_assert_found("bacnet", "ReadProperty vendor", "bacnet.identification", "T0888");
}
END_TEST

START_TEST(bacnet_write_technique_by_context)
{
	ck_assert_found("bacnet", "AtomicWriteFile", "bacnet.unauthorized_write", "T0843");
	ck_assert_found("bacnet", "WriteProperty event-enable", "bacnet.unauthorized_write",
	    "T0878");
	ck_assert_found("bacnet", "WriteProperty analog-value", "bacnet.unauthorized_write",
	    "T0836");
	/* a binary output is a command, not a setpoint */
	ck_assert_found("bacnet", "WriteProperty present-value of binary",
	    "bacnet.unauthorized_write", "T0855");
}
END_TEST

START_TEST(cip_identity_and_file_download)
{
	cJSON *al;

	ck_assert_found("enip", "firmware update", "cip.file_download", "T0839");
	/* a session that only reads the Identity object: identification */
	ck_assert_found("enip", "Get_Attributes_All of the Identity", "cip.identity_read",
	    "T0888");
	al = scenario("enip", "ListServices");
	ck_assert(raised(al, "enip.list_identity", "T0888"));
	ck_assert(lists(al, "enip.list_identity", "T0846"));
	cJSON_Delete(al);
}
END_TEST

START_TEST(s7_clock_and_block_list)
{
	ck_assert_found("s7comm", "set PLC clock", "s7.set_clock", "T0849");
	ck_assert_found("s7comm", "list blocks", "s7.block_list", "T0861");
	ck_assert_found("s7comm", "S7comm-plus: SetVariable", "s7plus.unauthorized_write",
	    "T0855");
}
END_TEST

START_TEST(fins_clock_and_parameters)
{
	ck_assert_found("fins", "clock write", "fins.unauthorized_write", "T0849");
	ck_assert_found("fins", "parameter area write", "fins.unauthorized_write", "T0836");
}
END_TEST

START_TEST(dnp3_technique_by_context)
{
	cJSON *al = scenario("dnp3", "disable unsolicited");

	/* the events the master no longer sees (T0815), alarms among them */
	ck_assert_ptr_nonnull(al);
	ck_assert(raised(al, "dnp3.disable_unsolicited", "T0815"));
	ck_assert(lists(al, "dnp3.disable_unsolicited", "T0878"));
	cJSON_Delete(al);
	ck_assert_found("dnp3", "time set", "dnp3.unauthorized_command", "T0849");
	ck_assert_found("dnp3", "activate configuration", "dnp3.config_change", "T0836");
	ck_assert_found("dnp3", "freeze and clear", "dnp3.unauthorized_command", "T0855");
}
END_TEST

START_TEST(mms_technique_by_context)
{
	cJSON *al;

	ck_assert_found("mms", "write setting group value", "mms.unauthorized_write",
	    "T0836");
	ck_assert_found("mms", "write SGCB ActSG", "mms.unauthorized_write", "T0836");
	ck_assert_found("mms", "disable report control block", "mms.unauthorized_write",
	    "T0878");
	ck_assert_found("mms", "GetNameList", "mms.discovery", "T0861");
	ck_assert_found("mms", "program invocation stop", "mms.program_reset", "T0858");
	ck_assert_found("mms", "file delete", "mms.file_operation", "T0809");
	/* an operate stays a command */
	al = scenario("mms", "write XCBR1$CO$Pos$Oper");
	ck_assert(raised(al, "mms.unauthorized_write", "T0855"));
	ck_assert(!lists(al, "mms.unauthorized_write", "T0836"));
	cJSON_Delete(al);
}
END_TEST

START_TEST(opcua_discovery_and_setpoints)
{
	cJSON *al;

	ck_assert_found("opcua", "GetEndpoints / FindServers", "opcua.discovery", "T0846");
	al = scenario("iec104", "setpoint C_SE_NC_1");
	ck_assert(lists(al, "iec104.unauthorized_command", "T0836") ||
	    lists(al, "roles.rogue_master", "T0836"));
	cJSON_Delete(al);
	al = scenario("dnp3", "analog output setpoint");
	ck_assert(lists(al, "dnp3.unauthorized_command", "T0836") ||
	    lists(al, "roles.rogue_master", "T0836"));
	cJSON_Delete(al);
}
END_TEST

/* OPC UA judged by the service's body: what it reads, writes, calls */
START_TEST(opcua_services_by_what_they_do)
{
	cJSON *al;

	ck_assert_found("opcua", "Read of ServerStatus/BuildInfo", "opcua.server_info",
	    "T0888");
	/* BuildInfo members hidden among process tags, another encoding */
	ck_assert_found("opcua", "Read of BuildInfo SoftwareVersion", "opcua.server_info",
	    "T0888");
	ck_assert_found("opcua", "Read of the whole ServerStatus", "opcua.server_info",
	    "T0888");
	ck_assert_found("opcua", "Call of a server method on string NodeIds",
	    "opcua.unauthorized_write", "T0871");
	ck_assert_found("opcua", "AddNodes of a shadow variable", "opcua.address_space",
	    "T0831");
	ck_assert_found("opcua", "DeleteReferences then DeleteNodes", "opcua.address_space",
	    "T0809");
	al = scenario("opcua", "AddNodes / DeleteNodes");
	ck_assert(raised(al, "opcua.address_space", "T0809"));
	ck_assert(lists(al, "opcua.address_space", "T0843"));
	cJSON_Delete(al);
	/* a numeric value is a parameter, a Boolean a command */
	al = scenario("opcua", "Write of a Float alarm limit");
	ck_assert(raised(al, "opcua.unauthorized_write", "T0855"));
	ck_assert(lists(al, "opcua.unauthorized_write", "T0836"));
	cJSON_Delete(al);
	al = scenario("opcua", "Write of a Boolean command");
	ck_assert(raised(al, "opcua.unauthorized_write", "T0855"));
	ck_assert(!lists(al, "opcua.unauthorized_write", "T0836"));
	cJSON_Delete(al);
}
END_TEST

/* refused activations: ServiceFaults over 15 sessions, Bad results on one */
START_TEST(opcua_session_guessing)
{
	cJSON *al;

	al = scenario("opcua", "ActivateSession password brute force");
	ck_assert(raised(al, "opcua.session_guessing", "T0859"));
	ck_assert(lists(al, "opcua.session_guessing", "T0806"));
	cJSON_Delete(al);
	al = scenario("opcua", "ActivateSession guessing on one channel");
	ck_assert(raised(al, "opcua.session_guessing", "T0859"));
	ck_assert(lists(al, "opcua.session_guessing", "T0806"));
	cJSON_Delete(al);
}
END_TEST

/* the g70v3 file command's mode says where the file goes */
START_TEST(dnp3_file_by_mode)
{
	cJSON *al;

	ck_assert_found("dnp3", "file transfer: open file for write", "dnp3.file_operation",
	    "T0843");
	ck_assert_found("dnp3", "file opened for append", "dnp3.file_operation", "T0843");
	ck_assert_found("dnp3", "firmware image opened for write", "dnp3.file_operation",
	    "T0839");
	ck_assert_found("dnp3", "configuration file opened for read", "dnp3.file_operation",
	    "T0845");
	ck_assert_found("dnp3", "delete file", "dnp3.file_operation", "T0809");
	al = scenario("dnp3", "firmware image opened for write");
	ck_assert(lists(al, "dnp3.file_operation", "T0843"));
	cJSON_Delete(al);
}
END_TEST

/* modbus.umas_* alerts whose source is ip (a summary counts once) */
static int
umas_alerts(const cJSON *alerts, const char *ip)
{
	const cJSON *a;
	const char *d;
	int n = 0;

	cJSON_ArrayForEach(a, alerts) {
		d = tu_json_str(a, "detector");
		if (d != NULL && strncmp(d, "modbus.umas_", 12) == 0 &&
		    same(tu_json_str(a, "src.ip"), ip))
			n++;
	}
	return n;
}

/* Schneider's "upload" writes the PLC, its "download" reads it out */
START_TEST(umas_transfer_direction)
{
	cJSON *al;

	ck_assert_found("modbus", "Schneider UMAS initiate download (fc 90/0x30)",
	    "modbus.umas_download", "T0843");
	ck_assert_found("modbus", "UMAS program written into the PLC", "modbus.umas_download",
	    "T0843");
	ck_assert_found("modbus", "UMAS program read out of the PLC", "modbus.umas_upload",
	    "T0845");
	al = scenario("modbus", "UMAS program read out of the PLC");
	ck_assert(!raised(al, "modbus.umas_download", "T0843"));
	/* the PLC's answers (sent from port 502) are no requests: both UMAS
	 * alerts name the attacker, who sent to the port the PLC listens on */
	ck_assert_int_eq(umas_alerts(al, ATTACKER), 2);	/* first + summary */
	ck_assert_int_eq(umas_alerts(al, PLC), 0);
	cJSON_Delete(al);
}
END_TEST

/* setpoints with no learned range: registers, DB values, numbers */
START_TEST(setpoint_writes_without_a_range)
{
	cJSON *al;

	al = scenario("modbus", "setpoint written far outside its range");
	ck_assert(raised(al, "modbus.unauthorized_write", "T0855"));
	ck_assert(lists(al, "modbus.unauthorized_write", "T0836"));
	cJSON_Delete(al);
	al = scenario("modbus", "write multiple coils");
	ck_assert(raised(al, "modbus.unauthorized_write", "T0855"));
	ck_assert(!lists(al, "modbus.unauthorized_write", "T0836"));
	cJSON_Delete(al);
	al = scenario("s7comm", "write var REAL DB10.DBD20");
	ck_assert(raised(al, "s7.unauthorized_write", "T0855"));
	ck_assert(lists(al, "s7.unauthorized_write", "T0836"));
	cJSON_Delete(al);
	al = scenario("s7comm", "write var bit Q0.1");
	ck_assert(raised(al, "s7.unauthorized_write", "T0855"));
	ck_assert(!lists(al, "s7.unauthorized_write", "T0836"));
	cJSON_Delete(al);
}
END_TEST

/* sessions opened faster than any client does, to one service port */
START_TEST(connection_floods)
{
	ck_assert_found("s7comm", "COTP connection flood", "net.connection_flood", "T0814");
	ck_assert_found("opcua", "Hello/OpenSecureChannel flood", "net.connection_flood",
	    "T0814");
}
END_TEST

/*
 * Floods judged per application message against the server's rate
 * (issue 12 item 4): a new client at 200 requests/s on a device polled at
 * 2/s, far below any packet-rate flood, two seconds in a row.
 */
START_TEST(floods_judged_against_the_server)
{
	cJSON *al;

	ck_assert_found("modbus", "request flood", "channel.rate", "T0814");
	ck_assert_found("dnp3", "request flood", "channel.rate", "T0814");
	ck_assert_found("iec104", "interrogation flood", "channel.rate", "T0814");
	/* 40 reads in 0.8 s is one busy second, not a flood */
	al = scenario("enip", "tag sweep");
	ck_assert(!raised(al, "channel.rate", "T0814"));
	cJSON_Delete(al);
}
END_TEST

/* Many never-polled points read once each: point and tag identification. */
START_TEST(read_sweeps)
{
	ck_assert_found("enip", "tag sweep", "points.read_sweep", "T0861");
	ck_assert_found("bacnet", "ReadProperty object-list sweep", "points.read_sweep",
	    "T0861");
	ck_assert_found("fins", "memory sweep", "points.read_sweep", "T0861");
	ck_assert_found("iec104", "read command C_RD_NA_1", "points.read_sweep", "T0861");
}
END_TEST

/*
 * IEC 104: common addresses tried and refused are a sweep (T0846); a rogue
 * master's interrogation enumerates the station's points (T0861 listed).
 */
START_TEST(iec104_address_scan_and_interrogation)
{
	cJSON *al;

	ck_assert_found("iec104", "common address sweep", "roles.iec104_address_scan",
	    "T0846");
	al = scenario("iec104", "general interrogation");
	ck_assert(raised(al, "roles.rogue_master", "T0848"));
	ck_assert(lists(al, "roles.rogue_master", "T0861"));
	ck_assert(!raised(al, "roles.iec104_address_scan", "T0846"));
	cJSON_Delete(al);
}
END_TEST

/* Password after password: guessing, whoever sends it. */
START_TEST(s7_password_guessing)
{
	cJSON *al = scenario("s7comm", "password brute force");

	ck_assert(raised(al, "s7.password_guessing", "T0859"));
	ck_assert(lists(al, "s7.password_guessing", "T0806"));
	cJSON_Delete(al);
}
END_TEST

/* fc 8 restart communications restarts the device's port: T0816. */
START_TEST(modbus_diagnostics_by_subfunction)
{
	cJSON *al;

	ck_assert_found("modbus", "diagnostics restart communications",
	    "modbus.diagnostics", "T0816");
	al = scenario("modbus", "diagnostics force listen only");
	ck_assert(raised(al, "modbus.diagnostics", "T0814"));
	ck_assert(!raised(al, "modbus.diagnostics", "T0816"));
	cJSON_Delete(al);
}
END_TEST

/* The legitimate master's polling raises nothing of severity >= low. */
START_TEST(background_raises_nothing)
{
	static const char *const sev[] = { "low", "medium", "high", "critical",
		NULL };
	const char *protos[] = { "modbus", "dnp3", "s7comm", "iec104", "enip",
		"bacnet", "fins", "mms", NULL };
	const cJSON *s, *a;
	int bad = 0, i, k;

	ck_assert_ptr_nonnull(fx.index);
	for (i = 0; protos[i] != NULL; i++) {
		cJSON_ArrayForEach(s, fx.index) {
			char pcap[700];
			cJSON *al;

			if (!same(tu_json_str(s, "protocol"), protos[i]))
				continue;
			snprintf(pcap, sizeof(pcap), "%s/%s", dir,
			    tu_json_str(s, "pcap"));
			al = replay(pcap);
			ck_assert_ptr_nonnull(al);
			cJSON_ArrayForEach(a, al) {
				if (!same(tu_json_str(a, "src.ip"), LEGIT))
					continue;
				for (k = 0; sev[k] != NULL; k++)
					if (same(tu_json_str(a, "severity"), sev[k])) {
						fprintf(stderr, "%s: %s\n",
						    tu_json_str(s, "id"),
						    tu_json_str(a, "detector"));
						bad++;
					}
			}
			cJSON_Delete(al);
			break;	/* one scenario per protocol */
		}
	}
	ck_assert_int_eq(bad, 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("catalogue");
	TCase *t = tcase_create("policy");

	tcase_add_unchecked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 600);
	tcase_add_test(t, bacnet_discovery_time_identity);
	tcase_add_test(t, bacnet_write_technique_by_context);
	tcase_add_test(t, cip_identity_and_file_download);
	tcase_add_test(t, s7_clock_and_block_list);
	tcase_add_test(t, fins_clock_and_parameters);
	tcase_add_test(t, dnp3_technique_by_context);
	tcase_add_test(t, mms_technique_by_context);
	tcase_add_test(t, opcua_discovery_and_setpoints);
	tcase_add_test(t, opcua_services_by_what_they_do);
	tcase_add_test(t, opcua_session_guessing);
	tcase_add_test(t, dnp3_file_by_mode);
	tcase_add_test(t, umas_transfer_direction);
	tcase_add_test(t, setpoint_writes_without_a_range);
	tcase_add_test(t, connection_floods);
	tcase_add_test(t, floods_judged_against_the_server);
	tcase_add_test(t, read_sweeps);
	tcase_add_test(t, iec104_address_scan_and_interrogation);
	tcase_add_test(t, s7_password_guessing);
	tcase_add_test(t, modbus_diagnostics_by_subfunction);
	tcase_add_test(t, background_raises_nothing);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
