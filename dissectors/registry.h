/*
 * registry.h - the industrial protocols icsentry dissects: one line each.
 *
 * Adding a protocol: write dissectors/<proto>.c and .h (parser plus one
 * `const struct proto_desc <proto>_desc`, see proto.h) and add one line
 * here.  The line gives the protocol its id (enum ics_proto, in this
 * order) and puts its descriptor in proto_registry[] (registry.c), the
 * list the stream layer walks for a new flow in this order.
 *
 * Keep the order: ids index counters and bit masks, and the statistics
 * list protocols in it.  New protocols go at the end.
 */
#ifndef ICSENTRY_DISSECTORS_REGISTRY_H
#define ICSENTRY_DISSECTORS_REGISTRY_H

/*	  id			descriptor (dissectors/<proto>.c) */
#define ICS_PROTOCOLS(X) \
	X(ICS_MODBUS,		modbus_desc)					\
	X(ICS_DNP3,		dnp3_desc)					\
	X(ICS_S7COMM,		s7comm_desc)					\
	X(ICS_S7COMMPLUS,	s7commplus_desc) /* behind TPKT, by s7comm */	\
	X(ICS_MMS,		mms_desc)	/* ISO 9506 on 102 (IEC 61850) */ \
	X(ICS_IEC104,		iec104_desc)					\
	X(ICS_ENIP,		enip_desc)					\
	X(ICS_CIP_IO,		cipio_desc)	/* EtherNet/IP class 1, UDP 2222 */ \
	X(ICS_BACNET,		bacnet_desc)					\
	X(ICS_OPCUA,		opcua_desc)					\
	X(ICS_FINS,		fins_desc)	/* Omron FINS, UDP and TCP 9600 */

/* The protocol ids: ICS_NONE, then one per line of ICS_PROTOCOLS. */
enum ics_proto {
	ICS_NONE = 0,
#define ICS_X(id, desc)	id,
	ICS_PROTOCOLS(ICS_X)
#undef ICS_X
	ICS_NPROTO
};

struct proto_desc;

#define ICS_X(id, desc)	extern const struct proto_desc desc;
ICS_PROTOCOLS(ICS_X)
#undef ICS_X

/* The descriptor of a protocol id; NULL for ICS_NONE and unknown ids. */
const struct proto_desc *proto_desc_of(enum ics_proto p);

/*
 * Every descriptor in ICS_PROTOCOLS order, NULL-terminated: the order in
 * which the stream layer offers a new flow to their pick().
 */
extern const struct proto_desc *const proto_registry[];


#endif
