/* Changing one value of a seed file in place: every other byte (comments,
   spacing, flow or block style, line endings) stays as the user wrote it. */
#ifndef PETAL_SEED_EDIT_H
#define PETAL_SEED_EDIT_H

#include <stddef.h>

#include <petal/plugin.h>

/* The text with the scalar at `dotted_key` ("compute.custom_ami") set to
   `value`: the old value's bytes replaced, or, when the key is absent, the
   key added to its mapping in that mapping's style and indentation (and
   missing mappings on the way created).  The value is written plain when
   petal_seed_needs_quotes allows, else in single quotes.  Only the text is looked at, not the
   schema.  *out (NUL-terminated, *out_len bytes) is the caller's; PETAL_EINVAL
   when the text is not YAML, a step of the key is not a mapping, or the
   value cannot be written on one line. */
int petal_seed_edit_text(const char *text, size_t len, const char *dotted_key,
                         const char *value, char **out, size_t *out_len,
                         struct petal_error *err);

/* Rewrite the seed file at `path` with petal_seed_edit_text, atomically
   (a temporary file beside it, fsync, rename; mode and owner kept).  Refused
   (PETAL_EINVAL, file untouched) when the file's content is no longer
   `expected` (expected_len bytes: what the caller read and decided on), when
   it changes while being rewritten, or when the result is not a valid seed
   whose `dotted_key` reads back as `value`. */
int petal_seed_set_scalar(const char *path, const char *dotted_key, const char *value,
                          const char *expected, size_t expected_len,
                          struct petal_error *err);

/* 0 when a string written plain reads back as that string in YAML 1.1 and
   1.2, block or flow context: it starts with a letter, '_' or '/', holds only
   letters, digits, spaces and . _ / @ ( ) -, ends in no space and is no
   boolean or null word.  Conservative: "6h" is quoted though it need not be;
   AMI ids and names are not. */
int petal_seed_needs_quotes(const char *s);

#endif
