/* ids.c - text for the shared error codes. */
#include "lib/ids.h"

const char *
ids_strerror(int err)
{
	switch (err) {
	case IDS_OK:		return "success";
	case IDS_ENOMEM:	return "out of memory";
	case IDS_EINVAL:	return "invalid argument";
	case IDS_ETRUNC:	return "truncated";
	case IDS_EMALFORMED:	return "malformed";
	case IDS_EIO:		return "I/O error";
	case IDS_ENOTSUP:	return "not supported";
	case IDS_EAGAIN:	return "need more data";
	}
	return "unknown error";
}
