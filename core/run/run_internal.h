/* Shared inside core/run. */
#ifndef PETAL_RUN_INTERNAL_H
#define PETAL_RUN_INTERNAL_H

#include "run.h"

/* Append `rec` as a record of type `type` (sets "record" and "time"). */
int petal_run_record(struct petal_run *run, const char *type, json_t *rec,
                     struct petal_error *err);
/* "2026-12-03T10:40:13Z" for now, in buf. */
void petal_run_now(char buf[32]);

#endif
