/*
 * testutil_schema.h - a small JSON Schema validator (the subset of draft
 * 2020-12 the test schemas use): type (one or a list), required,
 * properties, additionalProperties (bool or schema), enum, const,
 * minimum, maximum, minLength, pattern (POSIX ERE), items, minItems.
 */
#ifndef ICSENTRY_TESTS_TESTUTIL_SCHEMA_H
#define ICSENTRY_TESTS_TESTUTIL_SCHEMA_H

#include <stddef.h>

#include <cJSON.h>

/*
 * 0 when v satisfies schema; -1 with the first problem in err
 * ("$.alert.severity: 4 > maximum 3").  A keyword the validator does not
 * know is an error too, so a schema cannot silently check less.
 */
int ts_validate(const cJSON *schema, const cJSON *v, char *err, size_t errlen);

#endif
