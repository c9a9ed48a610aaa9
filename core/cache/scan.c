/* Reading a Spack database index in one streaming pass: the file is read in
   chunks straight into the tokenizer's buffer and hashed on the way, and of
   each install record only what petal needs is kept, until the record ends.

   {"database": {"version": "8", "installs": {HASH: {"spec": {"name",
   "version", "arch": {"platform", "platform_os", "target"}, "compiler"
   (spec format <= 4), "dependencies": [{"name", "hash", "parameters":
   {"deptypes", "virtuals"}} or {"name", "hash", "type"}], ...}, "ref_count",
   "in_buildcache", "installation_time"?}}}}

   Everything else (target features, parameters, externals' details) is
   passed over by the tokenizer without callbacks. */
#include "config.h"

#include "cache_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util/util.h"
#include "jsonstream.h"

#define MAX_DEPTH 256
#define MAX_TOKEN (4u << 20)
#define MAXD 12 /* deepest level petal looks at (dependency parameters' lists) */
/* What one record may hold, so that a hostile index cannot grow memory:
   real records have tens of dependencies and a few hundred bytes of text. */
#define RECORD_TEXT_MAX (16u << 20)
#define RECORD_DEPS_MAX 100000u
/* installation_time is seconds since the epoch; outside (1970, 10000) it
   is no date petal can print or compare (and converting 1e19 to int64_t
   would be undefined). */
#define TIME_MAX 253402300800.0

/* Database versions whose records have the shape read here (spec formats
   v3 to v5); version 5 and older hold records of another shape. */
static const char *const known_db_versions[] = { "6", "7", "8" };

/* Spack packages that are compilers: a build dependency on one of them is
   the compiler when no dependency says it provides c, cxx or fortran. */
static const char *const compiler_packages[] = {
	"gcc", "llvm", "clang", "apple-clang", "intel-oneapi-compilers",
	"intel-oneapi-compilers-classic", "intel", "oneapi", "aocc", "nvhpc", "pgi", "cce",
	"xl", "fj", "acfl", "arm", "rocmcc", "llvm-amdgpu", "msvc", "nag",
};

enum ctx {
	C_SKIP, C_TOP, C_ROOT, C_DB, C_INSTALLS, C_RECORD, C_SPEC, C_ARCH, C_TARGET,
	C_COMPILER, C_DEPS, C_DEP, C_DEP_PARAMS, C_DEPTYPES, C_VIRTUALS,
};

enum key {
	K_OTHER, K_DATABASE, K_VERSION, K_INSTALLS, K_SPEC, K_REF_COUNT, K_IN_BUILDCACHE,
	K_INSTALLATION_TIME, K_NAME, K_ARCH, K_COMPILER, K_DEPENDENCIES, K_HASH, K_PLATFORM,
	K_PLATFORM_OS, K_TARGET, K_PARAMETERS, K_DEPTYPES, K_TYPE, K_VIRTUALS, K_EXTERNAL,
	K_RECORD,
};

/* Fields of the record being read: offsets into the arena, NONE if absent. */
enum field { F_HASH, F_NAME, F_VERSION, F_PLATFORM, F_OS, F_TARGET, F_CNAME, F_CVERSION, F_N };
#define NONE ((size_t)-1)

struct dep_off {
	size_t name, hash;
	unsigned types;
	int language;
};

struct scanner {
	struct petal_cache_index *idx;
	petal_cache_record_cb cb;
	void *cb_arg;
	struct petal_error *user_err;
	int user_failed;
	struct petal_error perr;       /* what was wrong with the index */

	unsigned char ctx[MAXD + 1];   /* context of the members at each depth */
	unsigned char key[MAXD + 1];   /* the last key read at each depth */
	int seen_db, seen_installs;
	char db_version[16];
	size_t records, in_cache;

	/* the record being read */
	struct petal_strbuf arena;
	size_t f[F_N];
	struct dep_off *deps;
	size_t n_deps, cap_deps;
	int has_spec, external, in_buildcache, has_time, time_invalid;
	double itime;
	long long ref_count;
	uint64_t start, rc_at, rc_end, ib_at, ib_end;

	struct petal_strmap learned;   /* names seen providing a language */
	struct petal_cache_dep *out_deps;
	size_t cap_out_deps;
};

static int bad(struct scanner *sc, const struct petal_json_token *tok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(struct scanner *sc, const struct petal_json_token *tok, const char *fmt, ...)
{
	char what[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return petal_fail(&sc->perr, PETAL_EINVAL, "byte %llu: %s", (unsigned long long)tok->offset,
	                  what);
}

#define IS(lit) (len == sizeof(lit) - 1 && !memcmp(t, lit, sizeof(lit) - 1))

static enum key key_id(enum ctx c, const char *t, size_t len)
{
	switch (c) {
	case C_ROOT:
		return IS("database") ? K_DATABASE : K_OTHER;
	case C_DB:
		return IS("version") ? K_VERSION : IS("installs") ? K_INSTALLS : K_OTHER;
	case C_INSTALLS:
		return K_RECORD;
	case C_RECORD:
		return IS("spec") ? K_SPEC : IS("ref_count") ? K_REF_COUNT
		     : IS("in_buildcache") ? K_IN_BUILDCACHE
		     : IS("installation_time") ? K_INSTALLATION_TIME : K_OTHER;
	case C_SPEC:
		return IS("name") ? K_NAME : IS("version") ? K_VERSION : IS("arch") ? K_ARCH
		     : IS("compiler") ? K_COMPILER : IS("dependencies") ? K_DEPENDENCIES
		     : IS("external") ? K_EXTERNAL : K_OTHER;
	case C_ARCH:
		return IS("platform") ? K_PLATFORM : IS("platform_os") ? K_PLATFORM_OS
		     : IS("target") ? K_TARGET : K_OTHER;
	case C_TARGET:
		return IS("name") ? K_NAME : K_OTHER;
	case C_COMPILER:
		return IS("name") ? K_NAME : IS("version") ? K_VERSION : K_OTHER;
	case C_DEP:
		return IS("name") ? K_NAME : IS("hash") ? K_HASH : IS("type") ? K_TYPE
		     : IS("parameters") ? K_PARAMETERS : K_OTHER;
	case C_DEP_PARAMS:
		return IS("deptypes") ? K_DEPTYPES : IS("virtuals") ? K_VIRTUALS : K_OTHER;
	default:
		return K_OTHER;
	}
}

/* The context of a container's members, from where it sits. */
static enum ctx child_ctx(enum ctx parent, enum key k, int is_array)
{
	switch (parent) {
	case C_TOP: return is_array ? C_SKIP : C_ROOT;
	case C_ROOT: return k == K_DATABASE && !is_array ? C_DB : C_SKIP;
	case C_DB: return k == K_INSTALLS && !is_array ? C_INSTALLS : C_SKIP;
	case C_INSTALLS: return is_array ? C_SKIP : C_RECORD;
	case C_RECORD: return k == K_SPEC && !is_array ? C_SPEC : C_SKIP;
	case C_SPEC:
		if (k == K_ARCH && !is_array)
			return C_ARCH;
		if (k == K_COMPILER && !is_array)
			return C_COMPILER;
		return k == K_DEPENDENCIES && is_array ? C_DEPS : C_SKIP;
	case C_ARCH: return k == K_TARGET && !is_array ? C_TARGET : C_SKIP;
	case C_DEPS: return is_array ? C_SKIP : C_DEP;
	case C_DEP:
		if (k == K_PARAMETERS && !is_array)
			return C_DEP_PARAMS;
		return k == K_TYPE && is_array ? C_DEPTYPES : C_SKIP;
	case C_DEP_PARAMS:
		if (k == K_DEPTYPES && is_array)
			return C_DEPTYPES;
		return k == K_VIRTUALS && is_array ? C_VIRTUALS : C_SKIP;
	default: return C_SKIP;
	}
}

static size_t save(struct scanner *sc, const char *t, size_t len)
{
	size_t off = sc->arena.len;
	petal_strbuf_add(&sc->arena, t, len);
	petal_strbuf_putc(&sc->arena, '\0');
	return off;
}

static const char *at(const struct scanner *sc, size_t off)
{
	return off == NONE ? NULL : sc->arena.buf + off;
}

static void begin_record(struct scanner *sc, const struct petal_json_token *key)
{
	sc->arena.len = 0;
	for (int i = 0; i < F_N; i++)
		sc->f[i] = NONE;
	sc->f[F_HASH] = save(sc, key->text, key->len);
	sc->start = key->offset;
	sc->n_deps = 0;
	sc->has_spec = sc->external = sc->in_buildcache = sc->has_time = sc->time_invalid = 0;
	sc->ref_count = 0;
	sc->rc_at = sc->rc_end = sc->ib_at = sc->ib_end = 0;
}

static int is_compiler_package(const struct scanner *sc, const char *name)
{
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(compiler_packages); i++)
		if (!strcmp(name, compiler_packages[i]))
			return 1;
	return petal_strmap_get(&sc->learned, name) != NULL;
}

static int end_record(struct scanner *sc, const struct petal_json_token *tok)
{
	const char *hash = at(sc, sc->f[F_HASH]);
	if (!sc->has_spec)
		return bad(sc, tok, "record %s has no \"spec\" object", hash);
	if (sc->f[F_NAME] == NONE || sc->f[F_VERSION] == NONE)
		return bad(sc, tok, "record %s: its spec has no name or no version", hash);

	/* the compiler: spec.compiler, else the build dependency that provides
	   a language, else a build dependency on a compiler package */
	const struct dep_off *cdep = NULL;
	for (size_t i = 0; i < sc->n_deps && !cdep; i++)
		if (sc->deps[i].language && (sc->deps[i].types & PETAL_DEP_BUILD))
			cdep = &sc->deps[i];
	if (cdep && cdep->name != NONE && !petal_strmap_get(&sc->learned, at(sc, cdep->name)))
		*petal_strmap_slot(&sc->learned, at(sc, cdep->name), 1) = (void *)1;
	for (size_t i = 0; i < sc->n_deps && !cdep; i++)
		if ((sc->deps[i].types & PETAL_DEP_BUILD) && sc->deps[i].name != NONE &&
		    is_compiler_package(sc, at(sc, sc->deps[i].name)))
			cdep = &sc->deps[i];

	/* platform-os-target; room made first, as the parts live in the arena */
	size_t need = 1;
	const enum field parts[3] = { F_PLATFORM, F_OS, F_TARGET };
	for (int i = 0; i < 3; i++)
		if (sc->f[parts[i]] != NONE)
			need += strlen(at(sc, sc->f[parts[i]])) + 1;
	petal_grow((void **)&sc->arena.buf, &sc->arena.cap, sc->arena.len + need, 1);
	size_t arch = sc->arena.len;
	for (int i = 0, n = 0; i < 3; i++) {
		if (sc->f[parts[i]] == NONE)
			continue;
		if (n++)
			sc->arena.buf[sc->arena.len++] = '-';
		const char *part = at(sc, sc->f[parts[i]]);
		size_t l = strlen(part);
		memcpy(sc->arena.buf + sc->arena.len, part, l);
		sc->arena.len += l;
	}
	sc->arena.buf[sc->arena.len++] = '\0';
	hash = at(sc, sc->f[F_HASH]); /* the arena may have moved */

	const char *name = at(sc, sc->f[F_NAME]);
	const char *version = at(sc, sc->f[F_VERSION]);
	/* remember compilers' versions, for dependents read before or after */
	if (sc->idx->info.layout == PETAL_CACHE_V3 && is_compiler_package(sc, name)) {
		void **slot = petal_strmap_slot(&sc->idx->compilers, hash, 1);
		free(*slot);
		*slot = petal_xstrdup(version);
	}

	petal_grow((void **)&sc->out_deps, &sc->cap_out_deps, sc->n_deps, sizeof(*sc->out_deps));
	for (size_t i = 0; i < sc->n_deps; i++)
		sc->out_deps[i] = (struct petal_cache_dep){
			.name = at(sc, sc->deps[i].name),
			.hash = at(sc, sc->deps[i].hash),
			.types = sc->deps[i].types,
			.language = sc->deps[i].language,
		};
	struct petal_cache_record rec = {
		.hash = hash, .name = name, .version = version,
		.arch = sc->arena.buf + arch,
		.compiler = sc->f[F_CNAME] != NONE ? at(sc, sc->f[F_CNAME])
		          : cdep ? at(sc, cdep->name) : NULL,
		.compiler_version = sc->f[F_CNAME] != NONE ? at(sc, sc->f[F_CVERSION]) : NULL,
		.compiler_hash = cdep ? at(sc, cdep->hash) : NULL,
		.in_buildcache = sc->in_buildcache,
		.has_time = sc->has_time, .installation_time = sc->has_time ? sc->itime : 0,
		.time_invalid = sc->time_invalid,
		.ref_count = sc->ref_count,
		.deps = sc->out_deps, .n_deps = sc->n_deps,
		.start = sc->start, .end = tok->end,
		.ref_count_at = sc->rc_at, .ref_count_end = sc->rc_end,
		.in_buildcache_at = sc->ib_at, .in_buildcache_end = sc->ib_end,
	};
	if (cdep && !rec.compiler_version)
		rec.compiler_version = petal_cache_index_compiler_version(sc->idx, rec.compiler_hash);
	sc->records++;
	sc->in_cache += sc->in_buildcache != 0;
	if (sc->cb) {
		int rc = sc->cb(sc->cb_arg, &rec, sc->user_err);
		if (rc) {
			sc->user_failed = 1;
			return rc;
		}
	}
	return 0;
}

static int on_string(struct scanner *sc, enum ctx c, enum key k,
                     const struct petal_json_token *tok)
{
	const char *t = tok->text;
	size_t len = tok->len;
	if (memchr(t, '\0', len))
		return bad(sc, tok, "NUL character inside a string petal reads");
	enum field f = F_N;
	switch (c) {
	case C_DB:
		if (k == K_VERSION) {
			snprintf(sc->db_version, sizeof(sc->db_version), "%.*s", (int)len, t);
			return 0;
		}
		break;
	case C_SPEC:
		f = k == K_NAME ? F_NAME : k == K_VERSION ? F_VERSION : F_N;
		break;
	case C_ARCH:
		f = k == K_PLATFORM ? F_PLATFORM : k == K_PLATFORM_OS ? F_OS : k == K_TARGET ? F_TARGET
		                                                                             : F_N;
		break;
	case C_TARGET:
		f = k == K_NAME ? F_TARGET : F_N;
		break;
	case C_COMPILER:
		f = k == K_NAME ? F_CNAME : k == K_VERSION ? F_CVERSION : F_N;
		break;
	case C_DEP:
		if (k == K_NAME || k == K_HASH) {
			struct dep_off *d = &sc->deps[sc->n_deps - 1];
			*(k == K_NAME ? &d->name : &d->hash) = save(sc, t, len);
			return 0;
		}
		break;
	case C_DEPTYPES: {
		struct dep_off *d = &sc->deps[sc->n_deps - 1];
		d->types |= IS("build") ? PETAL_DEP_BUILD : IS("link") ? PETAL_DEP_LINK
		          : IS("run") ? PETAL_DEP_RUN : IS("test") ? PETAL_DEP_TEST : 0;
		return 0;
	}
	case C_VIRTUALS:
		if (IS("c") || IS("cxx") || IS("fortran"))
			sc->deps[sc->n_deps - 1].language = 1;
		return 0;
	default:
		break;
	}
	if (f == F_N)
		return bad(sc, tok, "unexpected string \"%.40s\"", t);
	sc->f[f] = save(sc, t, len);
	return 0;
}

static int on_scalar(struct scanner *sc, enum ctx c, enum key k,
                     const struct petal_json_token *tok)
{
	if (c == C_INSTALLS)
		return bad(sc, tok, "record %s is not an object", at(sc, sc->f[F_HASH]));
	if (tok->type == PETAL_JSON_STRING)
		return on_string(sc, c, k, tok);
	if (c == C_RECORD && k == K_IN_BUILDCACHE) {
		if (tok->type != PETAL_JSON_TRUE && tok->type != PETAL_JSON_FALSE)
			return bad(sc, tok, "record %s: in_buildcache is not true or false",
			           at(sc, sc->f[F_HASH]));
		sc->in_buildcache = tok->type == PETAL_JSON_TRUE;
		sc->ib_at = tok->offset;
		sc->ib_end = tok->end;
		return 0;
	}
	if (c == C_RECORD && (k == K_REF_COUNT || k == K_INSTALLATION_TIME) &&
	    tok->type == PETAL_JSON_NUMBER) {
		char num[64];
		snprintf(num, sizeof(num), "%.*s", (int)(tok->len < 63 ? tok->len : 63), tok->text);
		if (k == K_REF_COUNT) {
			sc->ref_count = strtoll(num, NULL, 10);
			sc->rc_at = tok->offset;
			sc->rc_end = tok->end;
		} else {
			/* a number longer than num is past any date too */
			sc->itime = tok->len < 63 ? strtod(num, NULL) : HUGE_VAL;
			sc->has_time = isfinite(sc->itime) && sc->itime > 0 && sc->itime < TIME_MAX;
			sc->time_invalid = !sc->has_time;
		}
		return 0;
	}
	/* null reads as absent; what must be there is checked at the record's end */
	if (tok->type == PETAL_JSON_NULL && c >= C_RECORD)
		return 0;
	if (c == C_DB && k == K_VERSION && tok->type == PETAL_JSON_NUMBER) {
		snprintf(sc->db_version, sizeof(sc->db_version), "%.*s", (int)tok->len, tok->text);
		return 0;
	}
	return bad(sc, tok, "unexpected value where %s was expected",
	           c == C_TOP ? "an object" : k == K_REF_COUNT ? "a number" : "a string");
}

static int on_token(void *arg, const struct petal_json_token *tok)
{
	struct scanner *sc = arg;
	unsigned d = tok->depth;
	if (d >= MAXD) /* below anything petal reads: checked, not looked at */
		return tok->type == PETAL_JSON_OBJECT_START || tok->type == PETAL_JSON_ARRAY_START ||
		       tok->type == PETAL_JSON_KEY ? PETAL_JSON_SKIP : 0;
	enum ctx c = (enum ctx)sc->ctx[d];
	if (sc->arena.len > RECORD_TEXT_MAX || sc->n_deps > RECORD_DEPS_MAX)
		return bad(sc, tok, "record %s is larger than petal accepts (%zu dependencies, %zu "
		           "bytes of text)", sc->f[F_HASH] != NONE ? at(sc, sc->f[F_HASH]) : "?",
		           sc->n_deps, sc->arena.len);
	switch (tok->type) {
	case PETAL_JSON_KEY: {
		enum key k = key_id(c, tok->text, tok->len);
		sc->key[d] = (unsigned char)k;
		if (k == K_RECORD) {
			begin_record(sc, tok);
			return 0;
		}
		if (k == K_EXTERNAL)
			sc->external = 1;
		return k == K_OTHER || k == K_EXTERNAL ? PETAL_JSON_SKIP : 0;
	}
	case PETAL_JSON_OBJECT_START:
	case PETAL_JSON_ARRAY_START: {
		int is_array = tok->type == PETAL_JSON_ARRAY_START;
		enum key k = c == C_DEPS ? K_OTHER : (enum key)sc->key[d];
		enum ctx child = child_ctx(c, k, is_array);
		if (child == C_SKIP) {
			if (c == C_TOP)
				return bad(sc, tok, "the top level is not an object");
			if ((c == C_ROOT && k == K_DATABASE) || (c == C_DB && k == K_INSTALLS) ||
			    c == C_INSTALLS || (c == C_RECORD && k == K_SPEC))
				return bad(sc, tok, "\"%s\" is not an object",
				           c == C_INSTALLS ? at(sc, sc->f[F_HASH]) : c == C_RECORD ? "spec"
				           : c == C_DB ? "installs" : "database");
			return PETAL_JSON_SKIP; /* dependencies as a dict, and the like: not read */
		}
		sc->ctx[d + 1] = (unsigned char)child;
		if (child == C_DB)
			sc->seen_db = 1;
		else if (child == C_INSTALLS)
			sc->seen_installs = 1;
		else if (child == C_SPEC)
			sc->has_spec = 1;
		else if (child == C_DEP) {
			PETAL_PUSH(sc->deps, sc->n_deps, sc->cap_deps,
			           ((struct dep_off){ .name = NONE, .hash = NONE }));
		}
		return 0;
	}
	case PETAL_JSON_OBJECT_END:
	case PETAL_JSON_ARRAY_END:
		if (sc->ctx[d + 1] == C_RECORD && c == C_INSTALLS)
			return end_record(sc, tok);
		return 0;
	default:
		if (c == C_DEPTYPES || c == C_VIRTUALS) {
			if (tok->type != PETAL_JSON_STRING)
				return bad(sc, tok, "dependency types and virtuals must be strings");
			return on_string(sc, c, K_OTHER, tok);
		}
		return on_scalar(sc, c, (enum key)sc->key[d], tok);
	}
}

static int known_version(const char *v)
{
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(known_db_versions); i++)
		if (!strcmp(v, known_db_versions[i]))
			return 1;
	return 0;
}

int petal_cache_index_scan(struct petal_cache_index *idx, petal_cache_record_cb cb, void *arg,
                           struct petal_cache_scan *out, struct petal_error *err)
{
	struct scanner sc = { .idx = idx, .cb = cb, .cb_arg = arg, .user_err = err };
	sc.ctx[0] = C_TOP;
	for (int i = 0; i < F_N; i++)
		sc.f[i] = NONE;
	char *what = petal_xasprintf("%s/%s", idx->url, idx->object);
	int rc = 0;
	int fd = open(idx->local, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = petal_fail(err, PETAL_EIO, "%s: cannot open: %s", idx->local, strerror(errno));
		goto out_what;
	}
	struct petal_sha256 *h = petal_sha256_new();
	struct petal_jsonstream *js = petal_jsonstream_new(MAX_DEPTH, MAX_TOKEN, on_token, &sc);
	uint64_t bytes = 0;
	int jrc = 0; /* parse result; reading and hashing go on after a parse error */
	for (;;) {
		size_t avail;
		char *dst = petal_jsonstream_space(js, &avail);
		ssize_t r = read(fd, dst, avail);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = petal_fail(err, PETAL_EIO, "%s: read failed: %s", idx->local, strerror(errno));
			goto out_js;
		}
		if (r == 0)
			break;
		petal_sha256_update(h, dst, (size_t)r);
		bytes += (uint64_t)r;
		if (!jrc) {
			jrc = petal_jsonstream_commit(js, (size_t)r, &sc.perr);
			if (jrc && sc.user_failed) {
				rc = jrc;
				goto out_js;
			}
		}
	}
	if (!jrc)
		jrc = petal_jsonstream_finish(js, &sc.perr);
	if (jrc && sc.user_failed) {
		rc = jrc;
		goto out_js;
	}
	char sum[65];
	petal_sha256_hex(h, sum);
	const char *by = idx->info.layout == PETAL_CACHE_V3 ? idx->manifest : PETAL_V2_INDEX_HASH;
	if (idx->checksum && strcmp(sum, idx->checksum) != 0) {
		rc = petal_fail(err, PETAL_EINVAL,
		                "%s: checksum mismatch: its sha256 is %s but %s says %s (%llu bytes read%s%s); "
		                "the index is damaged or was replaced without its %s: "
		                PETAL_CACHE_REBUILD_HINT,
		                what, sum, by, idx->checksum, (unsigned long long)bytes,
		                jrc ? "; as JSON: " : "", jrc ? sc.perr.msg : "",
		                idx->info.layout == PETAL_CACHE_V3 ? "manifest" : "hash file", idx->url);
		goto out_js;
	}
	if (idx->info.layout == PETAL_CACHE_V3 && bytes != idx->info.size) {
		rc = petal_fail(err, PETAL_EINVAL,
		                "%s: %llu bytes but %s says %llu; " PETAL_CACHE_REBUILD_HINT, what,
		                (unsigned long long)bytes, by, (unsigned long long)idx->info.size, idx->url);
		goto out_js;
	}
	if (jrc) {
		rc = petal_fail(err, PETAL_EINVAL, "%s: not a valid Spack index: %s; "
		                PETAL_CACHE_REBUILD_HINT, what, sc.perr.msg, idx->url);
		goto out_js;
	}
	if (!sc.seen_db || !sc.seen_installs) {
		rc = petal_fail(err, PETAL_EINVAL,
		                "%s: not a Spack index: no \"database\" object with \"installs\"; "
		                PETAL_CACHE_REBUILD_HINT, what, idx->url);
		goto out_js;
	}
	if (!known_version(sc.db_version)) {
		rc = petal_fail(err, PETAL_EINVAL,
		                "%s: database version %s%s%s, but petal reads versions 6, 7 and 8 (Spack "
		                "0.17 to 1.x); " PETAL_CACHE_REBUILD_HINT " with a Spack that writes one",
		                what, *sc.db_version ? "\"" : "(none)", sc.db_version,
		                *sc.db_version ? "\"" : "", idx->url);
		goto out_js;
	}
	if (out) {
		*out = (struct petal_cache_scan){ .records = sc.records, .in_cache = sc.in_cache,
			                          .bytes = bytes };
		snprintf(out->db_version, sizeof(out->db_version), "%s", sc.db_version);
		memcpy(out->sha256, sum, sizeof(sum));
	}
out_js:
	petal_jsonstream_free(js);
	petal_sha256_free(h);
	close(fd);
	petal_strbuf_release(&sc.arena);
	free(sc.deps);
	free(sc.out_deps);
	petal_strmap_release(&sc.learned, NULL);
out_what:
	free(what);
	return rc;
}
