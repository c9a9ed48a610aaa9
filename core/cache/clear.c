/* `petal cache clear --older-than AGE`: deciding what goes.

   A spec is dated by its record's installation_time, else by the mtime of
   its spec manifest (v3) or spec file (v2); an undated spec is never
   cleared, and one whose installation_time is no date (1e19, overflowing
   numbers) is undated.  An old spec still linked or run by a kept spec stays (clearing
   it would break the kept one's install); one only built-with by a kept spec
   goes, and its record stays in the index with in_buildcache false, the way
   Spack lists externals.  A blob goes only when no kept manifest (spec, key
   or other index manifests) references it, so every manifest of the mirror is
   read: one request each, the price of never deleting a shared blob.

   Unlike status, clear keeps a summary of every record in memory (hash,
   dependencies, offsets), since it needs the whole dependency graph. */
#include "config.h"

#include "cache_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util/util.h"

enum obj_kind { OBJ_MANIFEST, OBJ_SPECFILE, OBJ_TARBALL };

struct specobj {
	char *path;
	int64_t mtime;
	uint64_t size;
	enum obj_kind kind;
	struct specobj *next;
};

struct blobinfo {
	uint64_t size;
	int keep;       /* referenced by a kept manifest */
	int doomed;     /* referenced by a victim's manifest */
};

struct listing {
	enum petal_cache_layout layout;
	struct petal_strmap specs;  /* hash -> struct specobj chain */
	struct petal_strmap blobs;  /* v3: checksum -> struct blobinfo */
	char **others;              /* v3: other manifests (keys, index views) */
	size_t n_others, cap_others;
};

static void free_specobjs(void *v)
{
	for (struct specobj *o = v, *next; o; o = next) {
		next = o->next;
		free(o->path);
		free(o);
	}
}

static void add_specobj(struct listing *l, const char *hash, const struct petal_object_info *obj,
                        enum obj_kind kind)
{
	struct specobj *o = petal_xcalloc(1, sizeof(*o));
	o->path = petal_xstrdup(obj->key);
	o->mtime = obj->mtime;
	o->size = obj->bytes;
	o->kind = kind;
	void **slot = petal_strmap_slot(&l->specs, hash, 1);
	o->next = *slot;
	*slot = o;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), n = strlen(suffix);
	return l >= n && !strcmp(s + l - n, suffix);
}

static int on_object(void *arg, const struct petal_object_info *obj)
{
	struct listing *l = arg;
	const char *k = obj->key;
	char hash[33];
	if (l->layout == PETAL_CACHE_V3) {
		const char *base = strrchr(k, '/');
		base = base ? base + 1 : k;
		if (!strncmp(k, "blobs/sha256/", 13) && petal_cache_is_sha256(base) &&
		    !strncmp(k + 13, base, 2) && k[15] == '/' && base == k + 16) {
			struct blobinfo *b = petal_xcalloc(1, sizeof(*b));
			b->size = obj->bytes;
			void **slot = petal_strmap_slot(&l->blobs, base, 1);
			free(*slot);
			*slot = b;
		} else if (!strncmp(k, PETAL_V3_SPEC_DIR "/", strlen(PETAL_V3_SPEC_DIR) + 1) &&
		           petal_cache_hash_from_name(k, ".spec.manifest.json", hash)) {
			add_specobj(l, hash, obj, OBJ_MANIFEST);
		} else if (!strncmp(k, PETAL_V3_MANIFEST_DIR "/", strlen(PETAL_V3_MANIFEST_DIR) + 1) &&
		           ends_with(k, ".manifest.json") && strcmp(k, PETAL_V3_INDEX_MANIFEST) != 0) {
			PETAL_PUSH(l->others, l->n_others, l->cap_others, petal_xstrdup(k));
		}
		return 0;
	}
	if (strncmp(k, PETAL_V2_DIR "/", strlen(PETAL_V2_DIR) + 1) != 0)
		return 0;
	if (petal_cache_hash_from_name(k, ".spec.json", hash) ||
	    petal_cache_hash_from_name(k, ".spec.json.sig", hash) ||
	    petal_cache_hash_from_name(k, ".spec.yaml", hash))
		add_specobj(l, hash, obj, OBJ_SPECFILE);
	else if (petal_cache_hash_from_name(k, ".spack", hash))
		add_specobj(l, hash, obj, OBJ_TARBALL);
	return 0;
}

static int on_record(void *arg, const struct petal_cache_record *rec, struct petal_error *err)
{
	struct petal_cache_clear_priv *p = arg;
	/* Which of the two would go, and which would the new index list?  Spack
	   reads the last one; deleting by the first leaves an index naming a
	   spec whose files are gone.  Refused while nothing is deleted yet. */
	if (petal_strmap_get(&p->by_hash, rec->hash))
		return petal_fail(err, PETAL_EINVAL, "%s/%s lists the spec %s (%s) twice; clear "
		                  "refuses such an index and deleted nothing: "
		                  PETAL_CACHE_REBUILD_HINT, p->idx->url, p->idx->object, rec->hash,
		                  rec->name, p->idx->url);
	struct clear_rec r = {
		.hash = petal_xstrdup(rec->hash), .name = petal_xstrdup(rec->name),
		.version = petal_xstrdup(rec->version), .in_cache = rec->in_buildcache,
		.has_time = rec->has_time, .itime = rec->installation_time,
		.time_invalid = rec->time_invalid,
		.start = rec->start, .end = rec->end, .rc_at = rec->ref_count_at,
		.rc_end = rec->ref_count_end, .ib_at = rec->in_buildcache_at,
		.ib_end = rec->in_buildcache_end, .n_deps = rec->n_deps,
	};
	r.dep_hashes = petal_xcalloc(rec->n_deps ? rec->n_deps : 1, sizeof(char *));
	r.deps = petal_xcalloc(rec->n_deps ? rec->n_deps : 1, sizeof(*r.deps));
	for (size_t i = 0; i < rec->n_deps; i++) {
		r.dep_hashes[i] = petal_xstrdup(rec->deps[i].hash ? rec->deps[i].hash : "");
		r.deps[i].types = rec->deps[i].types;
	}
	void **slot = petal_strmap_slot(&p->by_hash, rec->hash, 1);
	*slot = (void *)(uintptr_t)(p->n_recs + 1);
	PETAL_PUSH(p->recs, p->n_recs, p->cap_recs, r);
	return 0;
}

static size_t rec_of(const struct petal_cache_clear_priv *p, const char *hash)
{
	size_t i = (size_t)(uintptr_t)petal_strmap_get(&p->by_hash, hash);
	return i ? i - 1 : NO_REC;
}

static void add_ref(struct petal_cache_spec_ref **v, size_t *n, size_t *cap, const char *hash,
                    const char *name, const char *version, int64_t time)
{
	struct petal_cache_spec_ref r = {
		.hash = petal_xstrdup(hash), .name = petal_xstrdup(name),
		.version = petal_xstrdup(version), .time = time,
	};
	PETAL_PUSH(*v, *n, *cap, r);
}

struct pathlist {
	char **paths;
	uint64_t *sizes;
	size_t n, cap, cap_sizes;
	uint64_t bytes;
};

static void add_path(struct pathlist *pl, const char *path, uint64_t size)
{
	size_t n = pl->n;
	PETAL_PUSH(pl->paths, pl->n, pl->cap, petal_xstrdup(path));
	PETAL_PUSH(pl->sizes, n, pl->cap_sizes, size);
	pl->bytes += size;
}

static void progress(const struct petal_cache_clear_opts *o, const char *stage, uint64_t done,
                     uint64_t total)
{
	if (o->progress)
		o->progress(o->progress_arg, stage, done, total, 0);
}

/* Mark the blobs a manifest references: kept, or doomed. */
static int read_manifest(const struct petal_mirror_io *io, struct listing *l, const char *path,
                         int doomed, size_t *missing, struct petal_error *err)
{
	struct petal_cache_blobref *b;
	size_t n;
	int was_signed;
	int rc = petal_cache_manifest_get(io, path, &b, &n, &was_signed, err);
	if (rc == PETAL_ENOENT)
		return 0; /* deleted meanwhile: it keeps nothing */
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct blobinfo *bi = petal_strmap_get(&l->blobs, b[i].checksum);
		if (!bi) {
			*missing += doomed;
			continue;
		}
		if (doomed)
			bi->doomed = 1;
		else
			bi->keep = 1;
	}
	petal_cache_blobrefs_free(b, n);
	return 0;
}

struct spec_walk {
	struct specobj **objs;
	const char **hv;
	size_t n, cap, cap_hv;
};

static void collect_spec(void *arg, const char *hash, void *val)
{
	struct spec_walk *w = arg;
	for (struct specobj *o = val; o; o = o->next) {
		size_t n = w->n;
		PETAL_PUSH(w->objs, w->n, w->cap, o);
		PETAL_PUSH(w->hv, n, w->cap_hv, hash);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_specobj(const void *a, const void *b)
{
	return strcmp((*(struct specobj *const *)a)->path, (*(struct specobj *const *)b)->path);
}

struct blob_walk {
	char **sums;
	size_t n, cap;
};

static void doomed_blob(void *arg, const char *sum, void *val)
{
	struct blob_walk *w = arg;
	struct blobinfo *b = val;
	if (b->doomed && !b->keep)
		PETAL_PUSH(w->sums, w->n, w->cap, (char *)sum);
}

/* v3: the victims' manifests, then the blobs only they referenced, then the
   old index blob. */
static int plan_v3(const struct petal_mirror_io *io, const struct petal_cache_clear_opts *opts,
                   struct petal_cache_clear_plan *plan, struct listing *l, struct pathlist *pl,
                   struct petal_error *err)
{
	struct petal_cache_clear_priv *p = plan->priv;
	struct petal_strmap victims = PETAL_STRMAP_INIT;
	for (size_t i = 0; i < plan->n_victims; i++)
		*petal_strmap_slot(&victims, plan->victims[i].hash, 1) = (void *)1;
	struct spec_walk sw = { 0 };
	petal_strmap_each(&l->specs, collect_spec, &sw);
	uint64_t total = sw.n + l->n_others, done = 0;
	int rc = 0;
	for (size_t i = 0; i < sw.n && !rc; i++) {
		int doomed = petal_strmap_get(&victims, sw.hv[i]) != NULL;
		rc = read_manifest(io, l, sw.objs[i]->path, doomed, &plan->missing_blobs, err);
		progress(opts, "reading manifests", ++done, total);
	}
	for (size_t i = 0; i < l->n_others && !rc; i++) {
		rc = read_manifest(io, l, l->others[i], 0, &plan->missing_blobs, err);
		progress(opts, "reading manifests", ++done, total);
	}
	if (rc)
		goto out;

	struct specobj **first = NULL;
	size_t n_first = 0, cap_first = 0;
	for (size_t i = 0; i < sw.n; i++)
		if (petal_strmap_get(&victims, sw.hv[i]))
			PETAL_PUSH(first, n_first, cap_first, sw.objs[i]);
	if (n_first)
		qsort(first, n_first, sizeof(*first), cmp_specobj);
	for (size_t i = 0; i < n_first; i++)
		add_path(pl, first[i]->path, first[i]->size);
	free(first);
	p->n_first = pl->n;

	/* both indexes' blobs stay out of this: the old one goes last, below */
	struct blobinfo *bi;
	if ((bi = petal_strmap_get(&l->blobs, p->old_sha)) != NULL)
		bi->doomed = 0;
	if ((bi = petal_strmap_get(&l->blobs, p->new_sha)) != NULL)
		bi->keep = 1;
	struct blob_walk bw = { 0 };
	petal_strmap_each(&l->blobs, doomed_blob, &bw);
	if (bw.n)
		qsort(bw.sums, bw.n, sizeof(*bw.sums), cmp_str);
	for (size_t i = 0; i < bw.n; i++) {
		char *path = petal_cache_blob_path(bw.sums[i]);
		add_path(pl, path, ((struct blobinfo *)petal_strmap_get(&l->blobs, bw.sums[i]))->size);
		free(path);
	}
	free(bw.sums);
	bi = petal_strmap_get(&l->blobs, p->old_sha);
	if (p->new_index && strcmp(p->old_sha, p->new_sha) != 0 && bi && !bi->keep) {
		char *path = petal_cache_blob_path(p->old_sha);
		add_path(pl, path, bi->size);
		free(path);
	}
out:
	free(sw.objs);
	free(sw.hv);
	petal_strmap_release(&victims, NULL);
	return rc;
}

/* v2: the victims' spec files, then their tarballs (nothing is shared). */
static void plan_v2(struct petal_cache_clear_plan *plan, struct listing *l, struct pathlist *pl)
{
	for (int pass = 0; pass < 2; pass++) {
		struct specobj **v = NULL;
		size_t n = 0, cap = 0;
		for (size_t i = 0; i < plan->n_victims; i++)
			for (struct specobj *o = petal_strmap_get(&l->specs, plan->victims[i].hash); o;
			     o = o->next)
				if ((o->kind == OBJ_TARBALL) == pass)
					PETAL_PUSH(v, n, cap, o);
		if (n)
			qsort(v, n, sizeof(*v), cmp_specobj);
		for (size_t i = 0; i < n; i++)
			add_path(pl, v[i]->path, v[i]->size);
		free(v);
		if (pass == 0)
			plan->priv->n_first = pl->n;
	}
}

/* The date of a spec from its objects: the spec manifest or spec file (the
   newest, when a v2 spec has both a .spec.json and a .sig), else any. */
static int date_from_objects(const struct specobj *o, int64_t *t)
{
	int found = 0, found_spec = 0;
	for (; o; o = o->next) {
		int spec = o->kind != OBJ_TARBALL;
		if (found_spec && !spec)
			continue;
		if (!found || (spec && !found_spec) || o->mtime > *t)
			*t = o->mtime;
		found = 1;
		found_spec |= spec;
	}
	return found;
}

struct orphan_walk {
	struct petal_cache_clear_plan *plan;
	size_t cap;
	int64_t cutoff;
};

/* Spec objects the index does not list (an interrupted clear, a push
   without --update-index): old ones go too. */
static void orphan(void *arg, const char *hash, void *val)
{
	struct orphan_walk *w = arg;
	struct petal_cache_clear_priv *p = w->plan->priv;
	int64_t t;
	if (rec_of(p, hash) != NO_REC || !date_from_objects(val, &t) || t >= w->cutoff)
		return;
	add_ref(&w->plan->victims, &w->plan->n_victims, &w->cap, hash, NULL, NULL, t);
}

static int cmp_ref(const void *a, const void *b)
{
	return strcmp(((const struct petal_cache_spec_ref *)a)->hash,
	              ((const struct petal_cache_spec_ref *)b)->hash);
}

/* Which specs go: old ones, minus those a kept spec links to or runs. */
static void choose(struct petal_cache_clear_plan *plan, struct listing *l, int64_t cutoff)
{
	struct petal_cache_clear_priv *p = plan->priv;
	size_t *stack = petal_xcalloc(p->n_recs ? p->n_recs : 1, sizeof(*stack)), top = 0;
	for (size_t i = 0; i < p->n_recs; i++) {
		struct clear_rec *r = &p->recs[i];
		if (!r->in_cache)
			continue;
		if (r->has_time) {
			r->time = (int64_t)r->itime; /* in range: scan.c checked */
			r->dated = 1;
		} else if (r->time_invalid) {
			r->dated = 0; /* a date that is no date: not the manifest's either */
		} else {
			r->dated = date_from_objects(petal_strmap_get(&l->specs, r->hash), &r->time);
		}
		r->old = r->dated && r->time < cutoff;
		plan->undated += !r->dated;
		if (!r->old)
			stack[top++] = i;
	}
	while (top > 0) {
		struct clear_rec *r = &p->recs[stack[--top]];
		for (size_t k = 0; k < r->n_deps; k++) {
			size_t d = r->deps[k].rec;
			if (d == NO_REC || !(r->deps[k].types & (PETAL_DEP_LINK | PETAL_DEP_RUN)))
				continue;
			struct clear_rec *dr = &p->recs[d];
			if (dr->in_cache && dr->old && !dr->needed) {
				dr->needed = 1;
				stack[top++] = d;
			}
		}
	}
	size_t cap_v = 0, cap_n = 0;
	for (size_t i = 0; i < p->n_recs; i++) {
		struct clear_rec *r = &p->recs[i];
		if (!r->in_cache)
			continue;
		r->victim = r->old && !r->needed;
		if (r->victim)
			add_ref(&plan->victims, &plan->n_victims, &cap_v, r->hash, r->name, r->version,
			        r->time);
		else if (r->needed)
			add_ref(&plan->needed, &plan->n_needed, &cap_n, r->hash, r->name, r->version,
			        r->time);
		else if (r->dated)
			plan->kept_specs++; /* newer than the cutoff; undated ones are counted apart */
	}
	size_t indexed = plan->n_victims;
	struct orphan_walk ow = { .plan = plan, .cap = cap_v, .cutoff = cutoff };
	petal_strmap_each(&l->specs, orphan, &ow);
	if (plan->n_victims > indexed)
		qsort(plan->victims + indexed, plan->n_victims - indexed, sizeof(*plan->victims),
		      cmp_ref);

	/* the new index: kept specs and every record they reach */
	top = 0;
	for (size_t i = 0; i < p->n_recs; i++)
		if (p->recs[i].in_cache && !p->recs[i].victim) {
			p->recs[i].in_new = 1;
			stack[top++] = i;
		}
	while (top > 0) {
		struct clear_rec *r = &p->recs[stack[--top]];
		for (size_t k = 0; k < r->n_deps; k++) {
			size_t d = r->deps[k].rec;
			if (d != NO_REC && !p->recs[d].in_new) {
				p->recs[d].in_new = 1;
				stack[top++] = d;
			}
		}
	}
	for (size_t i = 0; i < p->n_recs; i++)
		if (p->recs[i].in_new)
			for (size_t k = 0; k < p->recs[i].n_deps; k++)
				if (p->recs[i].deps[k].rec != NO_REC)
					p->recs[p->recs[i].deps[k].rec].new_ref++;
	free(stack);
}

static void free_blobinfo(void *v)
{
	free(v);
}

static void release_listing(struct listing *l)
{
	petal_strmap_release(&l->specs, free_specobjs);
	petal_strmap_release(&l->blobs, free_blobinfo);
	for (size_t i = 0; i < l->n_others; i++)
		free(l->others[i]);
	free(l->others);
}

int petal_cache_clear_plan(const struct petal_mirror_io *io,
                           const struct petal_cache_clear_opts *opts,
                           struct petal_cache_clear_plan *plan, struct petal_error *err)
{
	memset(plan, 0, sizeof(*plan));
	struct petal_cache_clear_priv *p = petal_xcalloc(1, sizeof(*p));
	plan->priv = p;
	struct listing l = { 0 };
	struct pathlist pl = { 0 };
	int rc;
	if (!io->list) {
		rc = petal_fail(err, PETAL_ENOTSUP, "%s: clearing needs to list the mirror's objects",
		                io->url);
		goto out_plan;
	}
	if ((rc = petal_cache_index_fetch(io, &p->idx, err)) != 0)
		goto out_plan;
	const struct petal_cache_index_info *info = petal_cache_index_info(p->idx);
	plan->layout = l.layout = info->layout;
	struct petal_cache_scan scan;
	if ((rc = petal_cache_index_scan(p->idx, on_record, p, &scan, err)) != 0)
		goto out_plan;
	memcpy(p->db_version, scan.db_version, sizeof(p->db_version));
	memcpy(p->old_sha, scan.sha256, sizeof(p->old_sha));
	p->had_hash = info->checksum != NULL;
	for (size_t i = 0; i < p->n_recs; i++) {
		struct clear_rec *r = &p->recs[i];
		for (size_t k = 0; k < r->n_deps; k++) {
			r->deps[k].rec = rec_of(p, r->dep_hashes[k]);
			free(r->dep_hashes[k]);
		}
		free(r->dep_hashes);
		r->dep_hashes = NULL;
	}

	if ((rc = io->list(io->arg, "", on_object, &l, err)) != 0)
		goto out_listing;
	choose(plan, &l, opts->now - opts->older_than);
	if (plan->n_victims == 0)
		goto out_listing;
	int indexed_victims = 0;
	for (size_t i = 0; i < p->n_recs; i++)
		indexed_victims |= p->recs[i].victim;
	if (indexed_victims) {
		plan->unsigned_index = info->manifest_signed;
		if ((rc = petal_cache_clear_write_index(io, plan, err)) != 0)
			goto out_listing;
	}
	if (plan->layout == PETAL_CACHE_V3)
		rc = plan_v3(io, opts, plan, &l, &pl, err);
	else
		plan_v2(plan, &l, &pl);
	plan->paths = pl.paths;
	plan->sizes = pl.sizes;
	plan->n_paths = pl.n;
	plan->bytes = pl.bytes;
	if (rc)
		goto out_listing;
	release_listing(&l);
	return 0;

out_listing:
	release_listing(&l);
	if (!rc)
		return 0;
out_plan:
	petal_cache_clear_plan_release(plan);
	return rc;
}

void petal_cache_clear_plan_release(struct petal_cache_clear_plan *plan)
{
	if (!plan)
		return;
	struct petal_cache_clear_priv *p = plan->priv;
	if (p) {
		for (size_t i = 0; i < p->n_recs; i++) {
			struct clear_rec *r = &p->recs[i];
			free(r->hash);
			free(r->name);
			free(r->version);
			if (r->dep_hashes)
				for (size_t k = 0; k < r->n_deps; k++)
					free(r->dep_hashes[k]);
			free(r->dep_hashes);
			free(r->deps);
		}
		free(p->recs);
		petal_strmap_release(&p->by_hash, NULL);
		if (p->new_index)
			unlink(p->new_index);
		if (p->new_manifest)
			unlink(p->new_manifest);
		free(p->new_index);
		free(p->new_manifest);
		petal_cache_index_free(p->idx);
		free(p);
	}
	struct petal_cache_spec_ref *lists[2] = { plan->victims, plan->needed };
	size_t counts[2] = { plan->n_victims, plan->n_needed };
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < counts[k]; i++) {
			free(lists[k][i].hash);
			free(lists[k][i].name);
			free(lists[k][i].version);
		}
		free(lists[k]);
	}
	for (size_t i = 0; i < plan->n_paths; i++)
		free(plan->paths[i]);
	free(plan->paths);
	free(plan->sizes);
	memset(plan, 0, sizeof(*plan));
}
