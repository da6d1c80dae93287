/* ids.h - the one error enum shared by every icsentry module. */
#ifndef ICSENTRY_LIB_IDS_H
#define ICSENTRY_LIB_IDS_H

/*
 * Functions return int: 0 on success, a negative IDS_E* on failure.
 * Results travel through out-parameters.
 */
enum ids_err {
	IDS_OK = 0,
	IDS_ENOMEM = -1,	/* allocation failed */
	IDS_EINVAL = -2,	/* bad argument or configuration */
	IDS_ETRUNC = -3,	/* input ends before the structure does */
	IDS_EMALFORMED = -4,	/* input is complete but violates the spec */
	IDS_EIO = -5,		/* file, socket or library I/O failed */
	IDS_ENOTSUP = -6,	/* valid but not handled (e.g. link type) */
	IDS_EAGAIN = -7		/* need more data (stream reassembly) */
};

/* Static English text for an IDS_E* code; never NULL. */
const char *ids_strerror(int err);

#endif
