/* core/run: run ids, tokens, the lock, the journal written and replayed
   (torn last line, corrupt middle line), the cleanup list, and kill -9 at
   random moments of appending. */
#include "config.h"

#include <CUnit/Basic.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/plan/plan.h"
#include "../core/run/run.h"
#include "../core/util/util.h"

static char state_dir[] = "/tmp/petal-test-run.XXXXXX";

static struct petal_run *new_run(void)
{
	struct petal_error err = { 0 };
	struct petal_run *run = NULL;
	json_t *plan = json_pack("{s:[{s:s},{s:s}]}", "steps", "id", "bake", "id", "fill");
	struct petal_run_start start = {
		.command = "build-ami", .seed = "seeds/hybrid.yaml", .seed_hash = "abc123", .plan = plan,
	};
	int rc = petal_run_create(state_dir, &start, &run, &err);
	json_decref(plan);
	if (rc)
		fprintf(stderr, "petal_run_create: %s\n", err.msg);
	return run;
}

static void append_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

/* ---- ids and tokens -------------------------------------------------------------- */

static void test_ids(void)
{
	char id[PETAL_RUN_ID_LEN + 1], other[PETAL_RUN_ID_LEN + 1];
	CU_ASSERT_EQUAL_FATAL(petal_run_id_new(id, NULL), 0);
	CU_ASSERT_EQUAL(strlen(id), PETAL_RUN_ID_LEN);
	CU_ASSERT_TRUE(petal_run_id_valid(id));
	CU_ASSERT_EQUAL(strncmp(id, "r-20", 4), 0);
	int differ = 0;
	for (int i = 0; i < 8 && !differ; i++) {
		CU_ASSERT_EQUAL(petal_run_id_new(other, NULL), 0);
		differ = strcmp(id, other) != 0;
	}
	CU_ASSERT_TRUE(differ);
	CU_ASSERT_TRUE(petal_run_id_valid("r-20261203-104013-a1b2"));
	CU_ASSERT_FALSE(petal_run_id_valid("r-20261203-104013-A1B2"));
	CU_ASSERT_FALSE(petal_run_id_valid("r-20261203-104013-a1b"));
	CU_ASSERT_FALSE(petal_run_id_valid("r-20261203-104013-a1b2x"));
	CU_ASSERT_FALSE(petal_run_id_valid("../20261203-104013-a1b2"));
	CU_ASSERT_FALSE(petal_run_id_valid(""));
	CU_ASSERT_FALSE(petal_run_id_valid(NULL));
}

static void test_tokens(void)
{
	char a[PETAL_RUN_TOKEN_MAX + 1], b[PETAL_RUN_TOKEN_MAX + 1], c[PETAL_RUN_TOKEN_MAX + 1];
	struct petal_error err = { 0 };
	const char *run = "r-20261203-104013-a1b2";
	CU_ASSERT_EQUAL_FATAL(petal_run_client_token(run, "ami.image-build", a, &err), 0);
	CU_ASSERT_EQUAL_FATAL(petal_run_client_token(run, "ami.image-build", b, &err), 0);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_TRUE(strlen(a) <= 64);
	CU_ASSERT_EQUAL(strncmp(a, run, strlen(run)), 0);
	for (const char *p = a; *p; p++)
		CU_ASSERT_TRUE((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-');
	CU_ASSERT_EQUAL(petal_run_client_token(run, "cache.fill", c, &err), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, c);
	CU_ASSERT_EQUAL(petal_run_client_token("r-20261203-104013-a1b3", "ami.image-build", c,
	                                       &err), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, c);
	/* a step id of any length still gives a token within EC2's limit */
	char longstep[300];
	memset(longstep, 'x', sizeof(longstep) - 1);
	longstep[sizeof(longstep) - 1] = '\0';
	CU_ASSERT_EQUAL(petal_run_client_token(run, longstep, c, &err), 0);
	CU_ASSERT_TRUE(strlen(c) <= 64);
	CU_ASSERT_EQUAL(petal_run_client_token("bogus", "x", c, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a run id"));
	CU_ASSERT_EQUAL(petal_run_client_token(run, "", c, &err), PETAL_EINVAL);
}

/* ---- the directory and the lock ----------------------------------------------------- */

static void test_dir_and_lock(void)
{
	struct petal_error err = { 0 };
	struct petal_run *run = new_run(), *again = NULL;
	struct stat st;
	pid_t pid;
	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	CU_ASSERT_EQUAL_FATAL(stat(run->dir, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
	CU_ASSERT_EQUAL(stat(run->journal, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0077, 0);
	/* held: a second owner is refused, naming the owner's pid */
	CU_ASSERT_EQUAL(petal_run_lock_probe(state_dir, run->id, &pid, &err), 1);
	CU_ASSERT_EQUAL(pid, getpid());
	CU_ASSERT_NOT_EQUAL(petal_run_open(state_dir, run->id, &again, &err), 0);
	CU_ASSERT_PTR_NULL(again);
	char *want = petal_xasprintf("run %s is in use by pid %ld", run->id, (long)getpid());
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
	free(want);
	/* released: the run can be taken up again */
	char id[PETAL_RUN_ID_LEN + 1];
	strcpy(id, run->id);
	petal_run_close(run);
	CU_ASSERT_EQUAL(petal_run_lock_probe(state_dir, id, &pid, &err), 0);
	CU_ASSERT_EQUAL_FATAL(petal_run_open(state_dir, id, &again, &err), 0);
	CU_ASSERT_PTR_NULL(again->note);
	petal_run_close(again);
	CU_ASSERT_EQUAL(petal_run_lock_probe(state_dir, "r-20000101-000000-0000", &pid, &err),
	                PETAL_ENOENT);
	CU_ASSERT_EQUAL(petal_run_open(state_dir, "r-20000101-000000-0000", &again, &err),
	                PETAL_ENOENT);
	CU_ASSERT_EQUAL(petal_run_open(state_dir, "../etc", &again, &err), PETAL_EINVAL);
}

/* ---- the journal --------------------------------------------------------------------- */

static void test_write_replay(void)
{
	struct petal_error err = { 0 }, fail = { .code = PETAL_ECLOUD };
	struct petal_run *run = new_run();
	struct petal_run_state *st = NULL;
	char tok[PETAL_RUN_TOKEN_MAX + 1];
	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	snprintf(fail.msg, sizeof(fail.msg), "InsufficientInstanceCapacity: no spot");
	CU_ASSERT_EQUAL(petal_run_client_token(run->id, "bake", tok, &err), 0);
	CU_ASSERT_EQUAL(petal_run_step_intent(run, "bake", "launch", tok, &err), 0);
	CU_ASSERT_EQUAL(petal_run_resource_created(run, "instance", "i-1", "eu-west-1", "bake",
	                                           &err), 0);
	json_t *produced = json_pack("[{s:s,s:s}]", "kind", "instance", "id", "i-1");
	CU_ASSERT_EQUAL(petal_run_step_result(run, "bake", "launch", 0, NULL, produced, &err), 0);
	json_decref(produced);
	CU_ASSERT_EQUAL(petal_run_step_intent(run, "bake", "create-image", tok, &err), 0);
	CU_ASSERT_EQUAL(petal_run_resource_created(run, "image", "ami-1", "eu-west-1", "bake",
	                                           &err), 0);
	CU_ASSERT_EQUAL(petal_run_resource_created(run, "snapshot", "snap-1", "eu-west-1", "bake",
	                                           &err), 0);
	CU_ASSERT_EQUAL(petal_run_step_result(run, "bake", "create-image", 1, NULL, NULL, &err), 0);
	CU_ASSERT_EQUAL(petal_run_resource_released(run, "snapshot", "snap-1", "eu-west-1", &err), 0);
	CU_ASSERT_EQUAL(petal_run_step_intent(run, "fill", "launch", "t2", &err), 0);
	CU_ASSERT_EQUAL(petal_run_step_result(run, "fill", "launch", 1, &fail, NULL, &err), 0);
	CU_ASSERT_EQUAL(petal_run_step_intent(run, "extra", "launch", NULL, &err), 0);
	CU_ASSERT_EQUAL(petal_run_resource_created(run, "Bad Kind", "x", NULL, NULL, &err),
	                PETAL_EINVAL);

	CU_ASSERT_EQUAL_FATAL(petal_run_replay(run->journal, &st, &err), 0);
	CU_ASSERT_STRING_EQUAL(st->id, run->id);
	CU_ASSERT_STRING_EQUAL(st->command, "build-ami");
	CU_ASSERT_STRING_EQUAL(st->seed_hash, "abc123");
	CU_ASSERT_EQUAL(st->pid, getpid());
	CU_ASSERT_EQUAL(st->end, PETAL_RUN_NOT_ENDED);
	CU_ASSERT_EQUAL(st->records, 12);
	CU_ASSERT_PTR_NULL(st->note);
	CU_ASSERT_EQUAL_FATAL(st->n_steps, 3);
	CU_ASSERT_STRING_EQUAL(st->steps[0].id, "bake");
	CU_ASSERT_EQUAL(st->steps[0].state, PETAL_STEP_DONE);
	CU_ASSERT_STRING_EQUAL(st->steps[0].token, tok);
	CU_ASSERT_EQUAL(json_array_size(st->steps[0].produced), 1);
	CU_ASSERT_EQUAL(st->steps[1].state, PETAL_STEP_FAILED);
	CU_ASSERT_EQUAL(st->steps[1].error_code, PETAL_ECLOUD);
	CU_ASSERT_STRING_EQUAL(st->steps[1].error, fail.msg);
	CU_ASSERT_EQUAL(st->steps[2].state, PETAL_STEP_INTENT);
	/* held: the instance and the image, not the released snapshot */
	CU_ASSERT_EQUAL_FATAL(st->n_held, 2);
	CU_ASSERT_STRING_EQUAL(st->held[0].id, "i-1");
	CU_ASSERT_STRING_EQUAL(st->held[1].id, "ami-1");
	CU_ASSERT_STRING_EQUAL(st->held[1].region, "eu-west-1");
	struct petal_run_undo *undo;
	CU_ASSERT_EQUAL_FATAL(petal_run_cleanup(st, &undo), 2);
	CU_ASSERT_STRING_EQUAL(undo[0].op, "deregister");
	CU_ASSERT_STRING_EQUAL(undo[0].res->id, "ami-1");
	CU_ASSERT_STRING_EQUAL(undo[1].op, "terminate");
	CU_ASSERT_STRING_EQUAL(undo[1].res->id, "i-1");
	free(undo);
	petal_run_state_free(st);

	/* the end: nothing may follow it */
	CU_ASSERT_EQUAL(petal_run_resource_released(run, "image", "ami-1", "eu-west-1", &err), 0);
	CU_ASSERT_EQUAL(petal_run_resource_released(run, "instance", "i-1", "eu-west-1", &err), 0);
	CU_ASSERT_EQUAL(petal_run_end(run, PETAL_RUN_FAILED, 1, &err), 0);
	CU_ASSERT_EQUAL_FATAL(petal_run_replay(run->journal, &st, &err), 0);
	CU_ASSERT_EQUAL(st->end, PETAL_RUN_FAILED);
	CU_ASSERT_EQUAL(st->exit_code, 1);
	CU_ASSERT_EQUAL(st->n_held, 0);
	CU_ASSERT_EQUAL(petal_run_cleanup(st, &undo), 0);
	petal_run_state_free(st);
	CU_ASSERT_EQUAL(petal_run_step_intent(run, "late", "launch", NULL, &err), 0);
	CU_ASSERT_EQUAL(petal_run_replay(run->journal, &st, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "journal.jsonl:16: a record after run-end"));
	petal_run_close(run);
}

static void test_torn_last_line(void)
{
	struct petal_error err = { 0 };
	struct petal_run *run = new_run(), *again = NULL;
	struct petal_run_state *st = NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	CU_ASSERT_EQUAL(petal_run_step_intent(run, "bake", "launch", "t", &err), 0);
	char id[PETAL_RUN_ID_LEN + 1];
	strcpy(id, run->id);
	char *path = petal_xstrdup(run->journal);
	petal_run_close(run);
	append_text(path, "{\"record\":\"step-result\",\"step\":\"bake\",\"op\":\"la");
	CU_ASSERT_EQUAL_FATAL(petal_run_replay(path, &st, &err), 0);
	CU_ASSERT_EQUAL(st->records, 2);
	CU_ASSERT_EQUAL(st->steps[0].state, PETAL_STEP_INTENT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st->note);
	CU_ASSERT_PTR_NOT_NULL(strstr(st->note, "journal.jsonl:3: torn last line ignored"));
	petal_run_state_free(st);
	/* taken up again, the torn line is cut off and the next record starts a line */
	CU_ASSERT_EQUAL_FATAL(petal_run_open(state_dir, id, &again, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(again->note);
	CU_ASSERT_EQUAL(petal_run_step_result(again, "bake", "launch", 1, NULL, NULL, &err), 0);
	CU_ASSERT_EQUAL_FATAL(petal_run_replay(path, &st, &err), 0);
	CU_ASSERT_PTR_NULL(st->note);
	CU_ASSERT_EQUAL(st->records, 3);
	CU_ASSERT_EQUAL(st->steps[0].state, PETAL_STEP_DONE);
	petal_run_state_free(st);
	petal_run_close(again);
	free(path);
}

/* A journal of `text`, replayed: its error. */
static int replay_text(const char *text, struct petal_error *err)
{
	char *path = petal_xasprintf("%s/fabricated.jsonl", state_dir);
	struct petal_run_state *st = NULL;
	CU_ASSERT_EQUAL_FATAL(petal_write_file(path, text, strlen(text), 0600, err), 0);
	int rc = petal_run_replay(path, &st, err);
	petal_run_state_free(st);
	free(path);
	return rc;
}

#define START "{\"record\":\"run-start\",\"time\":\"2026-12-03T10:00:00Z\",\"run\":\"r-20261203-100000-abcd\"}\n"
#define INTENT "{\"record\":\"step-intent\",\"time\":\"2026-12-03T10:00:01Z\",\"step\":\"s\",\"op\":\"launch\"}\n"

/* An image handed over: no longer held, in its step's produced; a detached
   run says so until the next record; gc's release may follow the end,
   nothing else may. */
static void test_kept_detach_options(void)
{
	struct petal_error err = { 0 };
	struct petal_run *run = new_run();
	struct petal_run_state *st = NULL;
	struct petal_run_undo *undo = NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	CU_ASSERT_EQUAL(petal_run_resource_created(run, "instance", "i-9", NULL, "bake", &err), 0);
	CU_ASSERT_EQUAL(petal_run_resource_created(run, "image", "ami-9", NULL, "bake", &err), 0);
	CU_ASSERT_EQUAL(petal_run_detach(run, &err), 0);
	CU_ASSERT_EQUAL_FATAL(petal_run_replay(run->journal, &st, &err), 0);
	CU_ASSERT_TRUE(st->detached);
	CU_ASSERT_STRING_EQUAL(petal_run_status(st, 0), "detached");
	CU_ASSERT_STRING_EQUAL(petal_run_status(st, 1), "running");
	CU_ASSERT_EQUAL(st->n_held, 2);
	petal_run_state_free(st);
	CU_ASSERT_EQUAL(petal_run_resource_kept(run, "image", "ami-9", NULL, "bake", &err), 0);
	CU_ASSERT_EQUAL_FATAL(petal_run_replay(run->journal, &st, &err), 0);
	CU_ASSERT_FALSE(st->detached);
	CU_ASSERT_STRING_EQUAL(petal_run_status(st, 0), "dead");
	CU_ASSERT_EQUAL_FATAL(st->n_held, 1);
	CU_ASSERT_STRING_EQUAL(st->held[0].id, "i-9");
	CU_ASSERT_EQUAL_FATAL(st->n_steps, 2);
	CU_ASSERT_STRING_EQUAL(st->steps[0].id, "bake");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
		json_array_get(st->steps[0].produced, 0), "id")), "ami-9");
	/* the cleanup never deregisters the product */
	CU_ASSERT_EQUAL(petal_run_cleanup(st, &undo), 1);
	CU_ASSERT_STRING_EQUAL(undo[0].res->id, "i-9");
	free(undo);
	petal_run_state_free(st);
	CU_ASSERT_EQUAL(petal_run_end(run, PETAL_RUN_FAILED, 1, &err), 0);
	CU_ASSERT_EQUAL(petal_run_resource_released(run, "instance", "i-9", NULL, &err), 0);
	CU_ASSERT_EQUAL_FATAL(petal_run_replay(run->journal, &st, &err), 0);
	CU_ASSERT_EQUAL(st->n_held, 0);
	CU_ASSERT_EQUAL(st->end, PETAL_RUN_FAILED);
	petal_run_state_free(st);
	CU_ASSERT_EQUAL(petal_run_detach(run, &err), 0);
	CU_ASSERT_EQUAL(petal_run_replay(run->journal, &st, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "only resource-released may follow"));
	petal_run_close(run);
}

static void test_corrupt_middle_line(void)
{
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(replay_text(START INTENT, &err), 0);
	CU_ASSERT_EQUAL(replay_text(START "{\"record\":\"step-int\n" INTENT, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fabricated.jsonl:2: not a JSON record"));
	/* a corrupt last line that did end in a newline was written whole: corrupt */
	CU_ASSERT_EQUAL(replay_text(START INTENT "garbage\n", &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fabricated.jsonl:3:"));
	CU_ASSERT_EQUAL(replay_text(START INTENT "{\"record\":\"bogus\",\"time\":\"t\"}\n" INTENT,
	                            &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fabricated.jsonl:3: unknown record 'bogus'"));
	CU_ASSERT_EQUAL(replay_text(INTENT START, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":1: the first record must be run-start"));
	CU_ASSERT_EQUAL(replay_text(START "{\"record\":\"step-result\",\"time\":\"t\",\"step\":"
	                            "\"s\",\"op\":\"launch\",\"ok\":true}\n", &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":2: a step-result without its step-intent"));
	CU_ASSERT_EQUAL(replay_text(START "{\"record\":\"resource-created\",\"time\":\"t\","
	                            "\"kind\":\"instance\"}\n", &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":2: a record's \"id\" must be"));
	CU_ASSERT_EQUAL(replay_text("", &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no run-start record"));
	struct petal_run_state *st = NULL;
	CU_ASSERT_EQUAL(petal_run_replay("/nonexistent/journal.jsonl", &st, &err), PETAL_ENOENT);
}

/* ---- kill -9 --------------------------------------------------------------------------- */

/* The child appends records to the run, large ones among them (a write of
   several pages can be cut short by SIGKILL), and after each acknowledged
   one sends its number down the pipe.  It never returns. */
static void child_append(const char *id, int iter, int ack_fd)
{
	struct petal_error err = { 0 };
	struct petal_run *run = NULL;
	static char big[20000];
	if (petal_run_open(state_dir, id, &run, &err) != 0)
		_exit(3);
	memset(big, 'm', sizeof(big) - 1);
	for (int k = 0;; k++) {
		char step[32];
		snprintf(step, sizeof(step), "i%d-k%d", iter, k);
		struct petal_error fail = { .code = PETAL_ECLOUD };
		json_t *produced = json_pack("[{s:s,s:s}]", "kind", "padding", "id",
		                             big + (sizeof(big) - 1) - (size_t)(k % 5) * 4000);
		if (petal_run_step_intent(run, step, "launch", NULL, &err) != 0 ||
		    petal_run_step_result(run, step, "launch", 1, k % 2 ? &fail : NULL, produced,
		                          &err) != 0)
			_exit(4);
		json_decref(produced);
		if (write(ack_fd, &k, sizeof(k)) != sizeof(k))
			_exit(5);
	}
}

static void test_kill9(void)
{
	struct petal_error err = { 0 };
	struct petal_run *run = new_run();
	char id[PETAL_RUN_ID_LEN + 1];
	int acked[30];
	int torn = 0;
	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	strcpy(id, run->id);
	char *path = petal_xstrdup(run->journal);
	petal_run_close(run);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());

	for (int iter = 0; iter < 30; iter++) {
		int p[2];
		CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
		pid_t pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			child_append(id, iter, p[1]);
		}
		close(p[1]);
		struct timespec ts = { 0, (long)(rand() % 40000) * 1000 };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int status;
		CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
		CU_ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		acked[iter] = -1;
		int k;
		while (read(p[0], &k, sizeof(k)) == sizeof(k))
			acked[iter] = k;
		close(p[0]);

		/* after every kill: the replay succeeds, the lock is free again */
		struct petal_run_state *st = NULL;
		pid_t owner;
		CU_ASSERT_EQUAL_FATAL(petal_run_replay(path, &st, &err), 0);
		CU_ASSERT_EQUAL(petal_run_lock_probe(state_dir, id, &owner, &err), 0);
		torn += st->note != NULL;
		/* no acknowledged record is lost, in this iteration or any before */
		for (int i = 0; i <= iter; i++) {
			for (int n = 0; n <= acked[i]; n++) {
				char step[32];
				snprintf(step, sizeof(step), "i%d-k%d", i, n);
				size_t s;
				for (s = 0; s < st->n_steps; s++)
					if (strcmp(st->steps[s].id, step) == 0)
						break;
				CU_ASSERT_TRUE_FATAL(s < st->n_steps);
				CU_ASSERT_EQUAL(st->steps[s].state,
				                n % 2 ? PETAL_STEP_FAILED : PETAL_STEP_DONE);
			}
		}
		petal_run_state_free(st);
	}
	fprintf(stderr, "\nkill -9: 30 kills, %d left a torn last line, %d records acknowledged "
	        "in the last run\n", torn, acked[29] + 1);
	free(path);
}

/* A plan's summary in run-start: its steps pending until begun, by action */
static void test_plan_summary(void)
{
	struct petal_plan_action image = { .kind = PETAL_ACTION_IMAGE,
	                                   .produces = PETAL_PRODUCT_IMAGE_ID };
	char *deps[] = { "bake" };
	struct petal_plan_step steps[] = {
		{ .id = "bake", .stage = PETAL_STAGE_IMAGE_BUILD, .action = &image },
		{ .id = "boot", .stage = PETAL_STAGE_READY, .depends_on = deps, .n_depends_on = 1 },
	};
	struct petal_plan plan = { .steps = steps, .n_steps = 2, .prepare_minutes = 40 };
	struct petal_error err = { 0 };
	struct petal_run *run = NULL;
	struct petal_run_state *st = NULL;
	json_t *sum = petal_run_plan_summary(&plan);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sum);
	json_t *s0 = json_array_get(json_object_get(sum, "steps"), 0);
	json_t *s1 = json_array_get(json_object_get(sum, "steps"), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s0, "action")), "image");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s0, "produces")), "image-id");
	CU_ASSERT_TRUE(json_is_null(json_object_get(s1, "action")));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(s1, "depends_on"),
	                                                        0)), "bake");
	struct petal_run_start start = { .command = "create", .plan = sum };
	CU_ASSERT_EQUAL_FATAL(petal_run_create(state_dir, &start, &run, &err), 0);
	json_decref(sum);
	CU_ASSERT_EQUAL(petal_run_step_intent(run, "bake", "launch", NULL, &err), 0);
	CU_ASSERT_EQUAL_FATAL(petal_run_replay(run->journal, &st, &err), 0);
	CU_ASSERT_EQUAL_FATAL(st->n_steps, 2);
	CU_ASSERT_EQUAL(st->steps[0].state, PETAL_STEP_INTENT);
	CU_ASSERT_STRING_EQUAL(st->steps[1].id, "boot");
	CU_ASSERT_EQUAL(st->steps[1].state, PETAL_STEP_PENDING);
	CU_ASSERT_PTR_NULL(st->seed);
	CU_ASSERT_STRING_EQUAL(petal_run_status(st, 1), "running");
	CU_ASSERT_STRING_EQUAL(petal_run_status(st, 0), "dead");
	petal_run_state_free(st);
	petal_run_close(run);
}

static void rm_rf(const char *dir)
{
	char *cmd = petal_xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
}

int main(void)
{
	if (!mkdtemp(state_dir))
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("run", NULL, NULL);
	if (!s ||
	    !CU_add_test(s, "run ids: form, fresh each time", test_ids) ||
	    !CU_add_test(s, "client tokens: deterministic, per step, within 64", test_tokens) ||
	    !CU_add_test(s, "run directory 0700, lock refuses a second owner", test_dir_and_lock) ||
	    !CU_add_test(s, "journal written and replayed, cleanup reversed", test_write_replay) ||
	    !CU_add_test(s, "a torn last line is ignored, then cut off", test_torn_last_line) ||
	    !CU_add_test(s, "a corrupt middle line is named with its line", test_corrupt_middle_line) ||
	    !CU_add_test(s, "a plan's summary: its steps pending", test_plan_summary) ||
	    !CU_add_test(s, "kept images, detached runs, gc after the end", test_kept_detach_options) ||
	    !CU_add_test(s, "kill -9 at random: replay succeeds, nothing acked lost", test_kill9)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	rm_rf(state_dir);
	return failed ? 1 : 0;
}
