/*
 * check_assets.c - the passive inventory (--assets-out) of the real agent
 * ($ICSENTRY_BUILD/icsentry-agent) on real captures ($SHARED/pcaps) and
 * the generated factory scenario: the device identification strings each
 * capture carries (checked against tshark 4.0's dissection of the same
 * packets), roles, MAC vendors from Debian's ieee-data.
 *
 *   modbus-icsnpp-example.pcap      Modbus 43/14 Read Device Identification
 *   s7comm-snap7-s300-everything    S7 SZL 0x0011 and 0x001C (the latter
 *                                   split over two userdata PDUs)
 *   bacnet-icsnpp-example.pcap      BACnet I-Am from 30 devices
 *   factory-benign.pcap (generated) EtherNet/IP ListIdentity responses
 *   enip-cip-controllogix-plant     CIP without identity objects (class
 *                                   0xAC only): roles and vendors, no identity
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detectors/detector.h"
#include "tests/testutil.h"

#define RUN_MS		(120 * 1000)
#define OUI_TXT		"/usr/share/ieee-data/oui.txt"

static char dir[512];

/* Run the agent on pcap with --assets-out -; the inventory, or NULL. */
static cJSON *
inventory(const char *pcap, const char *conf, int *rc)
{
	char agent[600];
	char *argv[8];
	struct tu_result r;
	cJSON *j = NULL;
	int n = 0;

	argv[n++] = (char *)tu_agent_path(agent, sizeof(agent));
	if (conf != NULL) {
		argv[n++] = "-c";
		argv[n++] = (char *)conf;
	}
	argv[n++] = "-r";
	argv[n++] = (char *)pcap;
	argv[n++] = "--assets-out";
	argv[n++] = "-";
	argv[n] = NULL;
	tu_run(argv, NULL, RUN_MS, &r);
	*rc = r.exit_code;
	if (r.exit_code == 0)
		j = cJSON_Parse(r.out);
	tu_result_free(&r);
	return j;
}

static cJSON *
shared_inventory(const char *name)
{
	char path[600];
	cJSON *j;
	int rc;

	j = inventory(tu_pcap_path(path, sizeof(path), name), NULL, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(j);
	return j;
}

static const cJSON *
asset(const cJSON *inv, const char *ip)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(inv, "assets")) {
		const char *v = tu_json_str(a, "ip");

		if (v != NULL && strcmp(v, ip) == 0)
			return a;
	}
	return NULL;
}

static int
roles(const cJSON *a, const char *proto)
{
	const cJSON *r;
	int m = 0;

	cJSON_ArrayForEach(r, cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "protocols"), proto)) {
		if (cJSON_IsString(r) && strcmp(r->valuestring, "client") == 0)
			m |= 1;
		if (cJSON_IsString(r) && strcmp(r->valuestring, "server") == 0)
			m |= 2;
	}
	return m;
}

static int
with_identity(const cJSON *inv, const char *proto)
{
	const cJSON *a;
	int n = 0;

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(inv, "assets"))
		n += cJSON_GetObjectItem(cJSON_GetObjectItem(a, "identity"),
		    proto) != NULL;
	return n;
}

static void
setup(void)
{
	tu_mkdtemp(dir, sizeof(dir), "assets");
}

static void
teardown(void)
{
	if (dir[0] != '\0')
		tu_rmtree(dir);
}

START_TEST(modbus_device_identification)
{
	cJSON *inv = shared_inventory("modbus-icsnpp-example.pcap");
	const cJSON *a;

	ck_assert_int_eq((int)tu_json_num(inv, "version", 0), 1);
	ck_assert_int_eq((int)tu_json_num(inv, "count", 0), 3);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(inv, "assets")), 3);
	/* frames 1-2: a 43/14 exchange over loopback (client and server) */
	a = asset(inv, "127.0.0.1");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "identity.modbus.vendor_name"),
	    "Zeek Modbus Test");
	ck_assert_str_eq(tu_json_str(a, "identity.modbus.product_code"),
	    "Protocol Parsing is fun!");
	ck_assert_str_eq(tu_json_str(a, "identity.modbus.revision"), "1.2.3.6");
	ck_assert_ptr_null(tu_json_str(a, "identity.modbus.product_name"));
	ck_assert_int_eq(roles(a, "modbus"), 3);
	/* loopback frames carry an all-zero MAC: no MAC, no vendor */
	ck_assert_ptr_null(cJSON_GetObjectItem(a, "mac"));
	ck_assert_str_eq(tu_json_str(a, "first_seen"), "2020-07-25T07:03:28.237857Z");
	ck_assert_str_eq(tu_json_str(a, "last_seen"), "2020-07-25T07:03:28.244181Z");
	a = asset(inv, "192.168.1.6");
	ck_assert_int_eq(roles(a, "modbus"), 1);
	ck_assert_str_eq(tu_json_str(a, "mac"), "04:0e:3c:1f:4b:c1");
	if (access(OUI_TXT, R_OK) == 0)
		ck_assert_str_eq(tu_json_str(a, "vendor"), "HP Inc.");
	ck_assert_ptr_null(cJSON_GetObjectItem(a, "identity"));
	ck_assert_int_eq(roles(asset(inv, "3.15.227.20"), "modbus"), 2);
	cJSON_Delete(inv);
}
END_TEST

START_TEST(s7_szl_module_and_component_identification)
{
	cJSON *inv = shared_inventory("s7comm-snap7-s300-everything.pcap");
	const cJSON *a;

	ck_assert_int_eq((int)tu_json_num(inv, "count", 0), 2);
	a = asset(inv, "134.217.61.211");
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(roles(a, "s7comm"), 2);
	ck_assert_str_eq(tu_json_str(a, "mac"), "00:0e:8c:d0:f9:cb");
	if (access(OUI_TXT, R_OK) == 0)
		ck_assert_str_eq(tu_json_str(a, "vendor"), "Siemens AG");
	/* SZL 0x0011: index 1 order number, index 7 firmware 'V' 3.2.7 */
	ck_assert_str_eq(tu_json_str(a, "identity.s7comm.order_number"),
	    "6ES7 315-2EH14-0AB0");
	ck_assert_str_eq(tu_json_str(a, "identity.s7comm.firmware"), "V3.2.7");
	/* SZL 0x001C, reassembled from frames 6 and 8 */
	ck_assert_str_eq(tu_json_str(a, "identity.s7comm.plc_name"),
	    "S7300/ET200M station_1");
	ck_assert_str_eq(tu_json_str(a, "identity.s7comm.module_name"), "PLC_1");
	ck_assert_str_eq(tu_json_str(a, "identity.s7comm.copyright"),
	    "Original Siemens Equipment");
	ck_assert_str_eq(tu_json_str(a, "identity.s7comm.serial_number"),
	    "S C-B1U393142011");
	ck_assert_str_eq(tu_json_str(a, "identity.s7comm.module_type"),
	    "CPU 315-2 PN/DP");
	ck_assert_str_eq(tu_json_str(a, "identity.s7comm.memory_card_serial"),
	    "MMC 4A1AC019");
	a = asset(inv, "134.217.61.131");
	ck_assert_int_eq(roles(a, "s7comm"), 1);
	ck_assert_ptr_null(cJSON_GetObjectItem(a, "identity"));
	cJSON_Delete(inv);
}
END_TEST

START_TEST(bacnet_i_am)
{
	cJSON *inv = shared_inventory("bacnet-icsnpp-example.pcap");
	const cJSON *a;

	ck_assert_int_eq((int)tu_json_num(inv, "count", 0), 40);
	ck_assert_int_eq(with_identity(inv, "bacnet"), 30);
	/* tshark: i-Am device,721 max APDU 1024 no-segmentation vendor 15 */
	a = asset(inv, "172.20.32.108");
	ck_assert_int_eq((int)tu_json_num(a, "identity.bacnet.device_instance", 0), 721);
	ck_assert_int_eq((int)tu_json_num(a, "identity.bacnet.vendor_id", 0), 15);
	ck_assert_int_eq((int)tu_json_num(a, "identity.bacnet.max_apdu", 0), 1024);
	ck_assert_int_eq((int)tu_json_num(a, "identity.bacnet.segmentation", 0), 3);
	ck_assert_int_eq(roles(a, "bacnet"), 2);
	a = asset(inv, "172.20.32.100");
	ck_assert_int_eq((int)tu_json_num(a, "identity.bacnet.device_instance", 0), 416);
	ck_assert_int_eq((int)tu_json_num(a, "identity.bacnet.vendor_id", 0), 138);
	/* the workstation asking (Who-Is, ReadProperty) */
	a = asset(inv, "172.20.32.200");
	ck_assert_int_eq(roles(a, "bacnet"), 1);
	ck_assert_ptr_null(cJSON_GetObjectItem(a, "identity"));
	cJSON_Delete(inv);
}
END_TEST

START_TEST(enip_list_identity)
{
	char path[600];
	const cJSON *a;
	cJSON *inv;
	int rc;

	inv = inventory(tu_build_path(path, sizeof(path),
	    "scenarios/factory-benign.pcap"), NULL, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(inv);
	ck_assert_int_eq((int)tu_json_num(inv, "count", 0), 26);
	ck_assert_int_eq(with_identity(inv, "enip"), 2);
	/* tshark: Vendor ID 1, Device Type 14, Product Code 108, Revision
	 * 32.11, Serial 0x16bab100, Product Name "1756-L83E/B", State 3 */
	a = asset(inv, "10.10.1.121");
	ck_assert_int_eq((int)tu_json_num(a, "identity.enip.vendor_id", 0), 1);
	ck_assert_int_eq((int)tu_json_num(a, "identity.enip.device_type", 0), 14);
	ck_assert_int_eq((int)tu_json_num(a, "identity.enip.product_code", 0), 108);
	ck_assert_str_eq(tu_json_str(a, "identity.enip.revision"), "32.11");
	ck_assert_str_eq(tu_json_str(a, "identity.enip.serial_number"), "0x16bab100");
	ck_assert_str_eq(tu_json_str(a, "identity.enip.product_name"), "1756-L83E/B");
	ck_assert_int_eq((int)tu_json_num(a, "identity.enip.state", 0), 3);
	ck_assert_int_eq((int)tu_json_num(a, "identity.enip.status", 0), 0x60);
	if (access(OUI_TXT, R_OK) == 0)
		ck_assert_str_eq(tu_json_str(a, "vendor"), "Rockwell Automation");
	a = asset(inv, "10.10.1.122");
	ck_assert_int_eq((int)tu_json_num(a, "identity.enip.product_code", 0), 55);
	ck_assert_str_eq(tu_json_str(a, "identity.enip.serial_number"), "0xf231aeb3");
	/* roles across industrial and IT protocols */
	a = asset(inv, "10.10.1.30");
	ck_assert_int_eq(roles(a, "enip"), 1);
	ck_assert_int_eq(roles(a, "modbus"), 1);
	ck_assert_int_eq(roles(a, "dns"), 1);
	ck_assert_int_eq(roles(a, "tls"), 1);
	ck_assert_int_eq(roles(asset(inv, "10.0.0.53"), "dns"), 2);
	ck_assert_int_eq(roles(asset(inv, "10.10.1.60"), "mqtt"), 2);
	ck_assert_int_eq(roles(asset(inv, "10.10.1.131"), "dnp3"), 2);
	ck_assert_int_eq(roles(asset(inv, "10.10.1.141"), "iec104"), 2);
	cJSON_Delete(inv);
}
END_TEST

START_TEST(cip_without_identity)
{
	cJSON *inv = shared_inventory("enip-cip-controllogix-plant.pcap");
	const cJSON *a;

	ck_assert_int_eq((int)tu_json_num(inv, "count", 0), 5);
	ck_assert_int_eq(with_identity(inv, "enip"), 0);
	a = asset(inv, "141.81.0.10");
	ck_assert_int_eq(roles(a, "enip"), 1);
	a = asset(inv, "141.81.0.63");
	ck_assert_int_eq(roles(a, "enip"), 2);
	ck_assert_str_eq(tu_json_str(a, "mac"), "00:00:bc:c7:ce:56");
	if (access(OUI_TXT, R_OK) == 0)
		ck_assert_str_eq(tu_json_str(a, "vendor"), "Rockwell Automation");
	cJSON_Delete(inv);
}
END_TEST

/*
 * Build the inventory of the snap7 capture with registry as the OUI file;
 * returns the vendor found for the PLC (134.217.61.211).
 */
static const char *
custom_oui(const char *name, const char *registry)
{
	static char found[128];
	char conf[700], reg[700], text[1600], path[600];
	const cJSON *a;
	cJSON *inv;
	int rc;

	snprintf(reg, sizeof(reg), "%s/%s", dir, name);
	ck_assert_int_eq(tu_write_file(reg, registry, strlen(registry)), 0);
	snprintf(conf, sizeof(conf), "%s/%s.conf", dir, name);
	snprintf(text, sizeof(text), "[detector.assets]\noui_file = %s\n", reg);
	ck_assert_int_eq(tu_write_file(conf, text, strlen(text)), 0);
	inv = inventory(tu_pcap_path(path, sizeof(path),
	    "s7comm-snap7-s300-everything.pcap"), conf, &rc);
	ck_assert_int_eq(rc, 0);
	a = asset(inv, "134.217.61.211");
	ck_assert_ptr_nonnull(tu_json_str(a, "vendor"));
	snprintf(found, sizeof(found), "%s", tu_json_str(a, "vendor"));
	/* not in the little registry */
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(asset(inv, "134.217.61.131"),
	    "vendor")));
	cJSON_Delete(inv);
	return found;
}

START_TEST(oui_registry_formats)
{
	ck_assert_str_eq(custom_oui("oui.txt", "OUI/MA-L\t\tOrganization\n\n"
	    "00-0E-8C   (hex)\t\tTest Siemens (txt)\n"
	    "000E8C     (base 16)\t\tTest Siemens (txt)\n"
	    "\t\t\t\tSomewhere\n"), "Test Siemens (txt)");
	ck_assert_str_eq(custom_oui("oui.csv", "Registry,Assignment,Organization Name,Organization Address\n"
	    "MA-L,000E8C,\"Siemens, \"\"Test\"\" CSV\",Somewhere DE\n"), "Siemens, \"Test\" CSV");
}
END_TEST

START_TEST(missing_oui_registry_is_a_config_error)
{
	char conf[700], path[600];
	struct tu_result r;
	char agent[600];
	const char *text = "[detector.assets]\noui_file = /nonexistent/oui.txt\n";
	char *argv[8];

	snprintf(conf, sizeof(conf), "%s/badoui.conf", dir);
	tu_write_file(conf, text, strlen(text));
	argv[0] = (char *)tu_agent_path(agent, sizeof(agent));
	argv[1] = "-c";
	argv[2] = conf;
	argv[3] = "-r";
	argv[4] = (char *)tu_pcap_path(path, sizeof(path), "modbus-icsnpp-example.pcap");
	argv[5] = NULL;
	tu_run(argv, NULL, RUN_MS, &r);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_uint_eq(tu_count_lines(r.err), 1);
	ck_assert(tu_contains(r.err, "/nonexistent/oui.txt: cannot read the OUI registry"));
	tu_result_free(&r);
}
END_TEST

START_TEST(inventory_to_a_file)
{
	char out[700], path[600], agent[600];
	struct tu_result r;
	char *argv[8], *text;
	cJSON *inv;

	snprintf(out, sizeof(out), "%s/inventory.json", dir);
	argv[0] = (char *)tu_agent_path(agent, sizeof(agent));
	argv[1] = "-r";
	argv[2] = (char *)tu_pcap_path(path, sizeof(path),
	    "s7comm-snap7-s300-everything.pcap");
	argv[3] = "--assets-out";
	argv[4] = out;
	argv[5] = NULL;
	tu_run(argv, NULL, RUN_MS, &r);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_str_eq(r.out, "");
	tu_result_free(&r);
	text = tu_read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	inv = cJSON_Parse(text);
	ck_assert_int_eq((int)tu_json_num(inv, "count", 0), 2);
	ck_assert_int_eq((int)tu_json_num(inv, "dropped", -1), 0);
	cJSON_Delete(inv);
	free(text);
	/* a directory that does not exist: exit 1, one line naming the file */
	snprintf(out, sizeof(out), "%s/nope/inventory.json", dir);
	argv[4] = out;
	tu_run(argv, NULL, RUN_MS, &r);
	ck_assert_int_eq(r.exit_code, 1);
	ck_assert_uint_eq(tu_count_lines(r.err), 1);
	ck_assert(tu_contains(r.err, "nope/inventory.json: cannot write the inventory"));
	tu_result_free(&r);
}
END_TEST

START_TEST(bounded_by_max_assets)
{
	char conf[700], path[600];
	const char *text = "[detector.assets]\nmax_assets = 16\n";
	cJSON *inv;
	int rc;

	snprintf(conf, sizeof(conf), "%s/small.conf", dir);
	tu_write_file(conf, text, strlen(text));
	inv = inventory(tu_pcap_path(path, sizeof(path),
	    "bacnet-icsnpp-example.pcap"), conf, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq((int)tu_json_num(inv, "count", 0), 16);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(inv, "assets")), 16);
	ck_assert_int_gt((int)tu_json_num(inv, "dropped", 0), 0);
	cJSON_Delete(inv);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("assets");
	TCase *t = tcase_create("inventory");

	tcase_add_unchecked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, modbus_device_identification);
	tcase_add_test(t, s7_szl_module_and_component_identification);
	tcase_add_test(t, bacnet_i_am);
	tcase_add_test(t, enip_list_identity);
	tcase_add_test(t, cip_without_identity);
	tcase_add_test(t, oui_registry_formats);
	tcase_add_test(t, missing_oui_registry_is_a_config_error);
	tcase_add_test(t, inventory_to_a_file);
	tcase_add_test(t, bounded_by_max_assets);
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
