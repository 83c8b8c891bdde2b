/* eval_molecules.h — the molecules task's RDKit metrics for the eval
 * report: validity, QED (the score; 0 when invalid), uniqueness and novelty,
 * from one run of the helper script over every distinct SMILES. */
#ifndef SMC_PIPELINE_EVAL_MOLECULES_H
#define SMC_PIPELINE_EVAL_MOLECULES_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* Rescores the molecules units in place (particle "score" = QED, "valid";
 * unit "score", "validity", "uniqueness", "novelty"). false (units left as
 * they are) when the helper fails; work files go in out_dir. */
bool eval_molecules_rescore(cJSON *units, const char *out_dir, const char *script);

#endif
