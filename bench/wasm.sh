#!/usr/bin/env bash
# `make bench`, part 3: the size of the release front end (issue 6, "Size": the release wasm of
# the whole portal at most 350 KB brotli-compressed).
# Builds the front end exactly as a release deploy does (`cargo leptos build --release
# --precompress`, front end only: profile wasm-release, wasm-bindgen, wasm-opt -Oz, JS minified,
# hashed file names), then measures the wasm, its JS glue and the CSS raw, gzip -9 and brotli
# quality 11 (Python's `brotli` from PyPI in .tools/venv), plus the .br files cargo-leptos
# precompressed (what the server sends). Writes its section of bench/RESULTS.md: replaces its own
# earlier section, or appends after bench/run.sh's and bench/voice.sh's. Runs alone too.
# Exits 1 when the wasm is over the budget, after writing the section.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
BUDGET_KB=350

work=$(mktemp -d /tmp/portal-wasm-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

# brotli from PyPI, in the tools venv (the same venv bench/voice.sh puts DuckDB in).
venv=$PWD/.tools/venv
if ! "$venv/bin/python" -c 'import brotli' 2>/dev/null; then
  echo "== installing brotli (PyPI) =="
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" 2>/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; python3 -m venv "$venv"; }
  "$venv/bin/pip" install -q brotli==1.2.1
fi

# A site root and hash file of its own: cargo-leptos empties the site root before building the
# front end, and target/site may be serving a development build right now. The compiled wasm
# itself is cargo's (target/front/…/wasm-release), shared with real release builds.
echo "== building the release front end (LEPTOS_HASH_FILES=true cargo leptos build --release --precompress --frontend-only) =="
t0=$(date +%s)
LEPTOS_HASH_FILES=true LEPTOS_SITE_ROOT="$work/site" LEPTOS_HASH_FILE_NAME="$work/hash.txt" \
  cargo leptos build --release --precompress --frontend-only
build_secs=$(( $(date +%s) - t0 ))

pkg="$work/site/pkg"
pick() { # the one file in pkg/ with this extension (hashed name), not a .br/.gz/.d.ts
  find "$pkg" -maxdepth 1 -type f -name "*.$1" ! -name '*.d.ts' | head -n 1
}
wasm=$(pick wasm); js=$(pick js); css=$(pick css)
for f in "$wasm" "$js" "$css"; do
  [ -n "$f" ] && [ -f "$f" ] || { echo "bench: the release build made no wasm/js/css in $pkg" >&2; ls -la "$pkg" >&2; exit 1; }
done
[ -s "$work/hash.txt" ] || { echo "bench: the release build wrote no hash file" >&2; exit 1; }

"$venv/bin/python" - "$wasm" "$js" "$css" > "$work/sizes.env" <<'PY'
import brotli, gzip, os, sys
for key, path in zip(("wasm", "js", "css"), sys.argv[1:]):
    data = open(path, "rb").read()
    print(f"{key}_name={os.path.basename(path)}")
    print(f"{key}_raw={len(data)}")
    print(f"{key}_gzip={len(gzip.compress(data, compresslevel=9, mtime=0))}")
    print(f"{key}_br={len(brotli.compress(data, quality=11))}")
    shipped = path + ".br"
    print(f"{key}_shipped_br={os.path.getsize(shipped) if os.path.exists(shipped) else 0}")
PY
val() { sed -n "s/^$1=//p" "$work/sizes.env"; }
kb() { python3 -c "print(f'{$1 / 1024:.1f}')"; }
wasm_br=$(val wasm_br)
verdict=$(python3 -c "print('met' if $wasm_br <= $BUDGET_KB * 1024 else 'NOT met')")
total_br=$(( wasm_br + $(val js_br) + $(val css_br) ))
echo "wasm: $(val wasm_raw) bytes raw, $(val wasm_gzip) gzip, $wasm_br brotli ($(kb "$wasm_br") KB; budget $BUDGET_KB KB: $verdict)"

rustc_v=$(rustc --version | awk '{print $2}')
bindgen_v=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')
wasm_opt_v=$(wasm-opt --version 2>/dev/null | sed -n 's/.*version \([0-9]*\).*/\1/p')
dirty=$(git diff --quiet HEAD -- app frontend style Cargo.toml Cargo.lock 2>/dev/null || echo ' plus uncommitted changes')
row() { # label key
  echo "| $1 (\`$(val "$2_name")\`) | $(val "$2_raw") B ($(kb "$(val "$2_raw")") KB) | $(val "$2_gzip") B ($(kb "$(val "$2_gzip")") KB) | $(val "$2_br") B ($(kb "$(val "$2_br")") KB) | $(val "$2_shipped_br") B |"
}

notes() { # what was found when the budget was first measured (issue 6), while it is not met
  [ "$verdict" = met ] && return 0
  cat <<'TXT'

What the wasm is made of (twiggy on the release wasm before wasm-opt, 2026-11-27): Leptos'
view code instantiated once per view type — the `hydrate_async` closures of every
`into_any` 22% of the code, `reactive_graph` closures 23%, `build`/`rebuild`/`hydrate`
18%; the app's own functions 6%, serde 6%, read-only data 0.2 MB. Tried: type-erased views in
release (913 → 534 KB brotli, kept), `opt-level = "s"` (597 KB, worse than "z"), `wasm-opt
--converge` (−0.7%, not kept). What is left is Leptos' per-type hydration code, for which
Leptos 0.8 has no switch (`hydrate_async` is compiled whenever `hydrate` is).
TXT
}

cat > "$work/section.md" <<MD
## Front-end size (issue: the portal UI)

Measured by bench/wasm.sh on $(date -u +%Y-%m-%d) at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$dirty:
the front end as a release deploy builds it, \`cargo leptos build --release --precompress\`
(profile \`wasm-release\`: opt-level z, fat LTO, one codegen unit, panic=abort; type-erased views,
\`--cfg erase_components\`; wasm-bindgen
$bindgen_v, wasm-opt $wasm_opt_v \`-Oz\`, JS minified, hashed names), rustc $rustc_v, built in
${build_secs} s on $(nproc) cores. gzip at level 9, brotli at quality 11 (Python brotli); the last
column is the \`.br\` file cargo-leptos precompressed, which the server sends to browsers that
accept brotli.

| file | raw | gzip -9 | brotli 11 | shipped \`.br\` |
| --- | --- | --- | --- | --- |
$(row "wasm" wasm)
$(row "JS glue" js)
$(row "CSS" css)

Release wasm, brotli: **$(kb "$wasm_br") KB** (budget ≤ $BUDGET_KB KB: $verdict). Everything a first
visit downloads from \`/pkg\` (wasm + JS + CSS, brotli): $(kb "$total_br") KB.
$(notes)
MD

# Replace this script's earlier section (up to the next "## " heading), or append.
touch bench/RESULTS.md
python3 - bench/RESULTS.md "$work/section.md" <<'PY'
import re, sys
path, section = sys.argv[1], open(sys.argv[2]).read().rstrip("\n") + "\n"
text = open(path).read()
pattern = re.compile(r"^## Front-end size \(issue: the portal UI\)\n.*?(?=^## |\Z)", re.S | re.M)
if pattern.search(text):
    text = pattern.sub(lambda _: section + "\n", text).rstrip("\n") + "\n"
else:
    text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + section
open(path, "w").write(text)
PY
echo "== wrote the front-end size section of bench/RESULTS.md =="
[ "$verdict" = met ]
