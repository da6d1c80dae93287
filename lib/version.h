/* version.h - the one version string of every icsentry program. */
#ifndef ICSENTRY_LIB_VERSION_H
#define ICSENTRY_LIB_VERSION_H

#define ICSENTRY_VERSION	"0.1.0"

#endif
