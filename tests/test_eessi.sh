#!/bin/sh
# The third-party example, the way a third party builds it: install petal's
# header and petal-plugin.pc (into a DESTDIR), build examples/tier_eessi with
# one cc line from pkg-config, drop it into a plugin directory, and check that
# `petal plugins list` shows it and `petal plan` gives it its packages.
. "${top_srcdir:?run through make check}/tests/lib.sh"
: "${top_builddir:?run through make check}"

# The loader refuses group-writable plugins; a umask of 002 must not fail this.
umask 022

dest="$tmp/dest"
plugdir="$tmp/plugins"
mkdir -p "$plugdir"
builtin="$top_builddir/plugins/.libs"
seed="$top_srcdir/examples/tier_eessi/eessi-seed.yaml"

# --- install the header and the .pc file -------------------------------------
if ${MAKE:-make} -s -C "$top_builddir" DESTDIR="$dest" \
	install-pkgincludeHEADERS install-pkgconfigDATA >"$tmp/out" 2>"$tmp/err"; then
	ok
else
	not_ok "installing the header and petal-plugin.pc into DESTDIR"
fi
pc=$(find "$dest" -name petal-plugin.pc | head -n 1)
header=$(find "$dest" -path '*/petal/plugin.h' | head -n 1)
if [ -n "$pc" ] && [ -n "$header" ]; then ok; else not_ok "installed petal-plugin.pc ($pc) and petal/plugin.h ($header)"; fi

PKG_CONFIG_PATH=$(dirname "${pc:-$dest/none}")
PKG_CONFIG_SYSROOT_DIR="$dest"
PKG_CONFIG_LIBDIR="$PKG_CONFIG_PATH"
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
pkgconfig=${PKG_CONFIG:-pkg-config}

abi=$($pkgconfig --variable=abi petal-plugin 2>"$tmp/err")
if [ "$abi" = 1 ]; then ok; else not_ok "pkg-config --variable=abi petal-plugin is '$abi', expected 1"; fi
for var in plugindir siteplugindir; do
	value=$($pkgconfig --variable=$var petal-plugin 2>"$tmp/err")
	case "$value" in
	/*) ok ;;
	*) not_ok "pkg-config --variable=$var petal-plugin is '$value', expected a path" ;;
	esac
done
cflags=$($pkgconfig --cflags petal-plugin 2>"$tmp/err")
case "$cflags" in
*"$dest"*) ok ;;
*) not_ok "pkg-config --cflags petal-plugin ('$cflags') points into the DESTDIR" ;;
esac

# --- the one cc line ------------------------------------------------------------
# Only the installed header may be visible: build from a copy of the source
# in a directory of its own, so no -I of petal's tree can sneak in.
cp "$top_srcdir/examples/tier_eessi/eessi.c" "$tmp/eessi.c"
if ${CC:-cc} -shared -fPIC $($pkgconfig --cflags petal-plugin) \
	-o "$plugdir/tier_eessi.so" "$tmp/eessi.c" >"$tmp/out" 2>"$tmp/err"; then
	ok
else
	not_ok "building tier_eessi.so with one cc line"
fi
chmod 0755 "$plugdir/tier_eessi.so" 2>/dev/null

PETAL_PLUGIN_PATH="$plugdir:$builtin"
export PETAL_PLUGIN_PATH

# --- petal plugins list ---------------------------------------------------------
run plugins list
expect_status 0 "plugins list with the example"
expect_in "$tmp/out" "eessi" "plugins list names eessi"
expect_in "$tmp/out" "$plugdir/tier_eessi.so" "plugins list shows where eessi is"

run plugins list --output json
expect_status 0 "plugins list --output json"
expect_py "eessi is active at rank 15" \
	"any(p['name'] == 'eessi' and p['state'] == 'active' and p['rank'] == 15 and p['abi'] == 2 and p['kind'] == 'tier' for p in j['plugins'])"
expect_py "the built-in tiers are still active" \
	"{'ami', 'binary-cache', 'container', 'source'} <= {p['name'] for p in j['plugins'] if p['state'] == 'active'}"
expect_py "the search path is PETAL_PLUGIN_PATH" \
	"j['search_path'] == ['$plugdir', '$builtin']"

# --- petal plan ------------------------------------------------------------------
# Which tier delivers the package named n: the plan lists, per tier, the specs
# it claimed.
tier_of="(lambda n: [t['tier'] for t in j['tiers'] for p in t.get('packages', []) if p.split('@')[0].split('%')[0].split('+')[0].strip() == n])"

run plan -t "$seed" --output json
expect_status 0 "plan of the EESSI seed"
expect_py "gromacs is delivered by eessi" "$tier_of('gromacs') == ['eessi']"
expect_py "samtools is delivered by binary-cache" "$tier_of('samtools') == ['binary-cache']"
expect_py "the eessi step boots on every node, about 2 minutes, no cost" \
	"any(s['id'] == 'eessi.mount' and s['stage'] == 'node-boot' and 1 <= s['est_minutes'] <= 5 and s['est_cost_usd'] == 0 for s in j['steps'])"
expect_py "the eessi step says what it does: its part of node-bootstrap.sh" \
	"[s['action'] for s in j['steps'] if s['id'] == 'eessi.mount'] == [dict(kind='node-bootstrap', instance_type=None, spot=False, spot_fallback=False, volume_gb=0, timeout_s=0, parts=['eessi'], image_name=None, image_tags=None, produces=None, output=None, uses=None, input=None)]"

run plan -t "$seed"
expect_status 0 "text plan of the EESSI seed"
expect_in "$tmp/out" "eessi" "the text plan names the eessi tier"

# --- without the plugin, the same seed still plans: all from the cache -----------
PETAL_PLUGIN_PATH="$builtin"
run plan -t "$seed" --output json
expect_status 0 "plan of the EESSI seed without the plugin"
expect_py "without eessi, gromacs comes from the binary cache" \
	"$tier_of('gromacs') == ['binary-cache']"

# --- masking the example hides it -------------------------------------------------
mkdir -p "$tmp/mask"
ln -s /dev/null "$tmp/mask/tier_eessi.so"
PETAL_PLUGIN_PATH="$tmp/mask:$plugdir:$builtin"
run plugins list --all --output json
expect_status 0 "plugins list with eessi masked"
expect_py "a symlink to /dev/null masks eessi" \
	"[p['state'] for p in j['plugins'] if p['name'] == 'eessi'] == ['masked', 'masked']"

# --- a broken drop-in beside it: listed with its reason, the rest still load ----
printf 'not a plugin\n' >"$plugdir/tier_broken.so"
PETAL_PLUGIN_PATH="$plugdir:$builtin"
run plugins list
expect_status 0 "plugins list with a broken drop-in"
expect_not_in "$tmp/out" "tier_broken.so" "plugins list leaves out files not in use"
expect_in "$tmp/out" "1 more not in use" "plugins list says how many it left out"
run plugins list --all
expect_status 0 "plugins list --all with a broken drop-in"
expect_in "$tmp/out" "$plugdir/tier_broken.so" "--all lists the broken file"
expect_in "$tmp/out" "not an ELF shared object" "--all gives the reason"
run plugins list --all --output json
expect_py "the broken file is rejected, eessi still active" \
	"[p['state'] for p in j['plugins'] if p['name'] in ('broken', 'eessi')] == ['rejected', 'active']"

finish
