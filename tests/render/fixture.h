/* tests/test_render's fixtures (tests/render/fixture.c). */
#ifndef PETAL_TEST_RENDER_FIXTURE_H
#define PETAL_TEST_RENDER_FIXTURE_H

#include "../../core/plan/plan.h"
#include "../../core/render/render.h"
#include "../../core/seed/seed.h"
#include "../../core/util/util.h"

#define SUBNET "subnet-0123456789abcdef0"

extern const char *top_srcdir; /* the source tree: seeds, checkers */
extern char *tmp_root;         /* everything the test writes */

/* What plan_for made, released together. */
struct fixture {
	struct petal_registry reg;
	struct petal_estimates *est;
	struct petal_plan *plan;
};

/* Compose seed's plan as `petal plan` does (PETAL_PLUGIN_PATH, PETAL_DATA_DIR);
   NULL, said on stderr, when it cannot. */
struct petal_plan *plan_for(const struct petal_seed *seed, struct fixture *f);
void fixture_release(struct fixture *f);

char *new_dir(void);                             /* a fresh path under tmp_root */
char *slurp(const char *dir, const char *file);  /* NULL when unreadable */
int run(const char *cmd);                        /* exit status, via sh */
struct petal_seed *load_text(const char *text);  /* NULL, said, when refused */
/* Plan and render seed into a new directory (returned); rc and err filled. */
char *render_seed(const struct petal_seed *seed, const char *subnet, const char *key,
                  int *rc, struct petal_error *err);
int check_config(const char *dir);               /* tests/render/check_pcluster.py */
int shellcheck(const char *dir, const char *file);
/* Run a rendered script in tests/render/sandbox.sh; the box directory. */
char *sandbox(const char *dir, const char *file, const char *args, int *rc);
/* The same with `env` (VAR=value words, see sandbox.sh) before the command. */
char *sandbox_env(const char *env, const char *dir, const char *file, const char *args,
                  int *rc);
int got_arg(const char *box, const char *arg);   /* a stub got arg, whole */
int exists_in(const char *dir, const char *file);
int mode_of(const char *dir, const char *file);
struct petal_node *parse_yaml(const char *dir, const char *file);
int list_has(const struct petal_node *root, const char *path, const char *text);

/* tests/render/layout.c: the shared volume and the head/compute split. */
void check_layout(const struct petal_seed *seed, const char *dir);
void test_shared_size(void);
void test_nothing_at_creation(void);
void test_image_upstream(void);
void test_shared_fragment(void);

#endif
