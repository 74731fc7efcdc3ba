#!/usr/bin/env bash
# `make bench`, part 7: the first-visit budgets of issue 17 (per-page wasm chunks), measured in
# headless Chromium against the last monolithic build, both in the same run:
#  - per page route, the brotli bytes of every `/pkg` response a first visit (cold cache)
#    downloads until the page is hydrated and the network idle: at most 350 KB (aim 300), and
#    at most 260 KB (aim 230) for `/login`;
#  - the sum of every wasm chunk of the split build (`.wasm.br`, main + chunks): at most 1.5× the
#    monolith's 548 KB, 822 KB;
#  - time to interactive of `/login` and `/` (signed in), median of 5 cold loads with the CPU 4×
#    slower and 1.6 Mbit/s, 150 ms latency: the split `/login` at most 60% of the monolith's.
#
# Builds two sites, each in its own git worktree and target directory under $FIRSTVISIT_CACHE
# (default /tmp/portal-firstvisit, kept between runs so a re-run is incremental; the worktree of
# the repository and its target/ are never touched):
#   monolith  commit $FIRSTVISIT_MONOLITH (default 8c545c9, the last before the split),
#             `LEPTOS_HASH_FILES=true cargo leptos build --release --precompress --frontend-only`
#   split     $FIRSTVISIT_SPLIT (default HEAD; `working-tree` copies the uncommitted tree),
#             the same with `--split`
# each with a debug server (`cargo build -p server --bin portal`) that reads the release
# build's hash file, as `make e2e` serves it (a release server adds many minutes and changes
# nothing the browser downloads). `FIRSTVISIT_<NAME>_PREBUILT=DIR` (NAME monolith or split)
# takes DIR/site, DIR/debug/portal and DIR/release/hash.txt instead of building (e.g. a
# `make build-site` target/; copied first, so a rebuild there cannot change them mid-run).
#
# Then serves both (fresh SQLite databases with `portal seed-demo`), measures them with
# bench/firstvisit.mjs (Playwright from end2end/node_modules, Debian's /usr/bin/chromium),
# writes its section of bench/RESULTS.md (replacing an earlier one) and exits 1 when a budget
# is exceeded, saying which. Runs alone (`bench/firstvisit.sh`) or from bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$HOME/.cargo/bin:$root/.tools/node_modules/.bin:$PATH"

MONOLITH_REV=${FIRSTVISIT_MONOLITH:-8c545c9}
SPLIT_REV=${FIRSTVISIT_SPLIT:-HEAD}
cache=${FIRSTVISIT_CACHE:-/tmp/portal-firstvisit}
mkdir -p "$cache"
run_started=$(date +%s)

[ -x end2end/node_modules/.bin/playwright ] || { echo "firstvisit: the end-to-end npm packages are missing (scripts/tools.sh test installs them)" >&2; exit 1; }
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || { echo "firstvisit: no Chromium at ${CHROMIUM_PATH:-/usr/bin/chromium} (scripts/tools.sh test installs it)" >&2; exit 1; }

work=$(mktemp -d /tmp/portal-firstvisit-run.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# --- builds -----------------------------------------------------------------------------------
# prepare_source NAME REV: the source tree of a build in $cache/NAME/src; prints its description.
prepare_source() {
  local name=$1 rev=$2 src=$cache/$1/src
  if [ "$rev" = working-tree ]; then
    # Tracked and untracked files that are not ignored, with their mtimes (cargo's fingerprints).
    rm -rf "$src" && mkdir -p "$src"
    git ls-files -z -co --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$src"
    git worktree prune
    echo "the working tree at $(date -u +%H:%M) UTC ($(git rev-parse --short HEAD) plus uncommitted changes)"
    return
  fi
  local commit
  commit=$(git rev-parse --verify "$rev^{commit}")
  if [ -e "$src/.git" ]; then
    git -C "$src" checkout -q --detach -f "$commit"
    git -C "$src" clean -qfdx
  else
    rm -rf "$src"
    git worktree prune
    git worktree add -q --detach "$src" "$commit"
  fi
  git rev-parse --short "$commit"
}

# build NAME REV SPLIT_FLAG: the release front end and the debug server of REV into $cache/NAME.
build() {
  local name=$1 rev=$2 flag=$3 dir=$cache/$1
  local described t0
  described=$(prepare_source "$name" "$rev")
  echo "== firstvisit: building $name ($described): LEPTOS_HASH_FILES=true cargo leptos build --release ${flag:+$flag }--precompress --frontend-only; cargo build -p server --bin portal =="
  t0=$(date +%s)
  rm -rf "$dir/site" "$dir/target/release/hash.txt"
  (
    cd "$dir/src"
    export CARGO_TARGET_DIR=$dir/target
    LEPTOS_HASH_FILES=true LEPTOS_SITE_ROOT=$dir/site cargo leptos build --release $flag --precompress --frontend-only &&
      cargo build -p server --bin portal
  ) > "$dir/build.log" 2>&1 || { tail -n 40 "$dir/build.log" >&2; echo "firstvisit: the $name build failed (log: $dir/build.log)" >&2; exit 1; }
  mkdir -p "$work/$name"
  echo "$described" > "$work/$name/describe"
  echo "$(( $(date +%s) - t0 ))" > "$work/$name/build_secs"
  use_built "$name" "$dir/site" "$dir/target/debug/portal" "$dir/target/release/hash.txt"
}

# use_built NAME SITE BIN HASH: records (a copy of) a built site for serving.
use_built() {
  local name=$1
  mkdir -p "$work/$name"
  cp -r "$2" "$work/$name/site"
  cp "$3" "$work/$name/portal"
  cp "$4" "$work/$name/hash.txt"
  [ -s "$work/$name/hash.txt" ] || { echo "firstvisit: $name has no hash file ($4)" >&2; exit 1; }
  ls "$work/$name/site/pkg/"*.wasm.br >/dev/null 2>&1 || { echo "firstvisit: $name has no precompressed wasm in $2/pkg" >&2; exit 1; }
}

for name in monolith split; do
  upper=$(echo "$name" | tr a-z A-Z)
  prebuilt_var="FIRSTVISIT_${upper}_PREBUILT"
  prebuilt=${!prebuilt_var:-}
  if [ -n "$prebuilt" ]; then
    echo "== firstvisit: $name prebuilt in $prebuilt (not built here) =="
    use_built "$name" "$prebuilt/site" "$prebuilt/debug/portal" "$prebuilt/release/hash.txt"
    echo "prebuilt in $prebuilt" > "$work/$name/describe"
    echo "" > "$work/$name/build_secs"
  elif [ "$name" = monolith ]; then
    build monolith "$MONOLITH_REV" ""
  else
    build split "$SPLIT_REV" --split
  fi
done

# --- serving ----------------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
urls=()
for name in monolith split; do
  d=$work/$name
  port=$(free_port)
  mkdir -p "$d/data"
  export_env=(
    DATABASE_URL="sqlite://$d/portal.db?mode=rwc"
    PORTAL_DATA_DIR="$d/data"
    RUST_LOG=warn
  )
  echo "== firstvisit: seeding $name's database (portal seed-demo) =="
  env "${export_env[@]}" "$d/portal" seed-demo > "$d/seed.log" 2>&1 || { cat "$d/seed.log" >&2; exit 1; }
  env "${export_env[@]}" LEPTOS_SITE_ROOT="$d/site" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    LEPTOS_HASH_FILE_NAME="$d/hash.txt" PORTAL_PUBLIC_URL="http://127.0.0.1:$port" \
    "$d/portal" serve > "$d/serve.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$d/serve.log" >&2; echo "firstvisit: $name did not start" >&2; exit 1; }
  js_hash=$(sed -n 's/^js: *//p' "$d/hash.txt")
  curl -fs -o "$d/login.html" "http://127.0.0.1:$port/login" && grep -q "portal\.$js_hash\.js" "$d/login.html" \
    || { cat "$d/serve.log" >&2; echo "firstvisit: $name's pages do not load the hashed release files of $d/hash.txt" >&2; exit 1; }
  urls+=("$name=http://127.0.0.1:$port")
done

# --- measuring --------------------------------------------------------------------------------
echo "== firstvisit: measuring in headless Chromium (bench/firstvisit.mjs) =="
node bench/firstvisit.mjs "$work/firstvisit.json" "${urls[@]}"
cp "$work/firstvisit.json" "$cache/last-run.json" # every request of every visit, for a closer look
run_secs=$(( $(date +%s) - run_started ))

# --- the report -------------------------------------------------------------------------------
touch bench/RESULTS.md
set +e
python3 - "$work" "$root/bench/RESULTS.md" "$run_secs" "${FIRSTVISIT_COMMAND:-bench/firstvisit.sh}" <<'PY'
import datetime, json, os, statistics, sys

work, results_path, run_secs, command = sys.argv[1:]
KB = 1024
PAGE_BUDGET, PAGE_AIM = 350, 300
LOGIN_BUDGET, LOGIN_AIM = 260, 230
MONOLITH_KB = 548
SUM_BUDGET = 1.5 * MONOLITH_KB
TTI_RATIO = 0.60

data = json.load(open(f"{work}/firstvisit.json"))
mono, split = data["builds"]["monolith"], data["builds"]["split"]
describe = {n: open(f"{work}/{n}/describe").read().strip() for n in ("monolith", "split")}
build_secs = {n: open(f"{work}/{n}/build_secs").read().strip() for n in ("monolith", "split")}

def pkg_files(name, suffix):
    pkg = f"{work}/{name}/site/pkg"
    return sorted((f, os.path.getsize(os.path.join(pkg, f))) for f in os.listdir(pkg) if f.endswith(suffix))

kb = lambda b: f"{b / KB:.1f}"
failures = []
lines = []
split_wasm = pkg_files("split", ".wasm.br")
mono_wasm = pkg_files("monolith", ".wasm.br")
split_all = sum(s for _, s in pkg_files("split", ".br"))
wasm_sum = sum(s for _, s in split_wasm)

rows = []
mono_by_page = {v["page"]: v for v in mono["visits"]}
for v in split["visits"]:
    page = v["page"]
    m = mono_by_page.get(page)
    budget, aim = (LOGIN_BUDGET, LOGIN_AIM) if page == "/login" else (PAGE_BUDGET, PAGE_AIM)
    size = v["bytes"] / KB
    if size > budget:
        verdict = "**NOT met**"
        failures.append(f"{page} downloads {size:.1f} KB, above its {budget} KB budget")
    elif size > aim:
        verdict = f"met, above the {aim} KB aim"
    else:
        verdict = "met, within the aim"
    rows.append(f"| `{page}` | {kb(m['bytes']) if m else '–'} ({m['requests'] if m else '–'}) | **{size:.1f}** | {v['requests']} | ≤ {budget} KB (aim {aim}): {verdict} |")

problems = []
for name, build in (("monolith", mono), ("split", split)):
    for v in build["visits"]:
        for p in v["problems"]:
            problems.append(f"{name} `{v['page']}`: {p}")
        if not v["idle"]:
            problems.append(f"{name} `{v['page']}`: the network was not idle within 20 s of hydration")
encodings = sorted({p["encoding"] for b in (mono, split) for v in b["visits"] for p in v["pkg"] if p.get("encoding")})
accept = sorted({p["acceptEncoding"] for b in (mono, split) for v in b["visits"] for p in v["pkg"] if p.get("acceptEncoding")})

if wasm_sum / KB > SUM_BUDGET:
    failures.append(f"the split build's wasm chunks sum to {kb(wasm_sum)} KB, above {SUM_BUDGET:.0f} KB (1.5 × {MONOLITH_KB} KB)")

def tti_row(page):
    m = [t["tti"] for t in mono["tti"][page]]
    s = [t["tti"] for t in split["tti"][page]]
    mm, sm = statistics.median(m), statistics.median(s)
    ratio = sm / mm
    if page == "/login":
        ok = ratio <= TTI_RATIO
        target = f"≤ {TTI_RATIO:.2f}: {'met' if ok else '**NOT met**'}"
        if not ok:
            failures.append(f"the split /login's time to interactive is {ratio:.2f} of the monolith's, above {TTI_RATIO:.2f}")
    else:
        target = "recorded"
    fmt = lambda xs: ", ".join(f"{x:.0f}" for x in xs)
    med = lambda build, key: statistics.median([t[key] for t in build["tti"][page]])
    where = "; ".join(
        f"{name} HTML {med(b, 'htmlDone'):.0f}, hydrated {med(b, 'tti'):.0f}, last /pkg byte {med(b, 'pkgDone'):.0f}"
        f" ({med(b, 'pkgAfterTti'):.0f} of {med(b, 'pkgRequests'):.0f} /pkg requests, {med(b, 'pkgAfterTtiBytes') / KB:.1f} KB, ended after hydration)"
        for name, b in (("monolith", mono), ("split", split)))
    return (f"| `{page}` | **{mm:.0f}** ({fmt(m)}) | **{sm:.0f}** ({fmt(s)}) | {ratio:.2f} | {target} |", f"`{page}`: {where}")

tti = [tti_row("/login"), tti_row("/")]
runs = len(mono["tti"]["/login"])
protocols = " and ".join(sorted({t["protocol"] or "?" for b in (mono, split) for ts in b["tti"].values() for t in ts}))

def breakdown(visit):
    """What a split first visit's /pkg bytes are: the main wasm, the page groups' chunks
    (`split_pages_*`), the shared chunks (`chunk_N`), the JS and CSS."""
    parts = {"main wasm": [], "page chunks": [], "shared chunks": [], "JS": [], "CSS": [], "other": []}
    for p in visit["pkg"]:
        name = p["url"].removeprefix("/pkg/")
        kind = ("page chunks" if name.startswith("split_") else "shared chunks" if name.startswith("chunk_")
                else "main wasm" if name.endswith(".wasm") else "JS" if name.endswith(".js")
                else "CSS" if name.endswith(".css") else "other")
        parts[kind].append((name, p["bytes"] or 0))
    out = []
    for kind, files in parts.items():
        if not files:
            continue
        total = sum(b for _, b in files)
        if kind == "page chunks":
            names = ", ".join(f"`{n.split('.')[0]}` {kb(b)}" for n, b in files)
            out.append(f"page chunks {kb(total)} ({names})")
        elif kind == "shared chunks":
            out.append(f"{len(files)} shared chunk{'s' if len(files) > 1 else ''} {kb(total)}")
        elif len(files) > 1:
            out.append(f"{len(files)} {kind} files {kb(total)}")
        else:
            out.append(f"{kind} {kb(total)}")
    return ", ".join(out)

largest = max(split["visits"], key=lambda v: v["bytes"])
login = next(v for v in split["visits"] if v["page"] == "/login")
built = lambda n: f", built in {build_secs[n]} s" if build_secs[n] else ""

lines += [
    "## First visit, page by page (issue 17: per-page wasm chunks)",
    "",
    f"Measured by bench/firstvisit.sh (`{command}`) on {datetime.date.today()}, in one run of {int(run_secs) // 60} min "
    f"{int(run_secs) % 60} s on {os.cpu_count()} cores. Two builds, each `LEPTOS_HASH_FILES=true cargo leptos build --release "
    "[--split] --precompress` (front end; the server is the debug `portal` of the same tree, reading that build's hash file, "
    "as `make e2e` serves it), each on a fresh SQLite database with `portal seed-demo`:",
    f"**monolith** = {describe['monolith']}{built('monolith')}; **split** = {describe['split']} with `--split`{built('split')}.",
    "",
    f"Headless Chromium {data['chromium']} (/usr/bin/chromium, Playwright {data['playwright']}). Every page in a fresh "
    "browser context (empty HTTP cache), signed in through password + TOTP as the demo's Contoso admin (`/provider`: the "
    "demo's carrier staff; `/login/mfa`: a sign-in waiting for its code; `/invite/…`, `/reset-password/…`: links from the "
    "development outbox). Counted: every `/pkg/` response from the navigation until `.app[data-hydrated='true']` and then "
    f"500 ms without a request in flight; bytes are the encoded body ({data['bytesMethod']}). Chromium sent "
    f"`Accept-Encoding: {'; '.join(accept)}`; the answers came {', '.join(encodings)}. KB = 1024 bytes.",
    "",
    "| page | monolith first-visit KB (requests) | split first-visit KB | split /pkg requests | budget |",
    "| --- | --- | --- | --- | --- |",
    *rows,
    "",
    f"What the split first visits are made of (KB): the largest, `{largest['page']}` ({kb(largest['bytes'])}): "
    f"{breakdown(largest)}; `/login` ({kb(login['bytes'])}): {breakdown(login)}.",
    "",
    f"All wasm of the split build (main + {len(split_wasm) - 1} chunks, the shipped `.wasm.br`): **{kb(wasm_sum)} KB** "
    f"(at most 1.5 × {MONOLITH_KB} = {SUM_BUDGET:.0f} KB: {'met' if wasm_sum / KB <= SUM_BUDGET else '**NOT met**'}); "
    f"the monolith's one wasm: {kb(sum(s for _, s in mono_wasm))} KB. Every `.br` in the split build's pkg/ (wasm, JS, CSS): {kb(split_all)} KB.",
    "",
    f"Time to interactive on a slow profile, {runs} cold loads each, the two builds alternating load by load: {data['ttiMethod']}. "
    "Milliseconds; the median in bold, then every load.",
    "",
    "| page | monolith TTI, ms | split TTI, ms | split ÷ monolith | target |",
    "| --- | --- | --- | --- | --- |",
    *[t[0] for t in tti],
    "",
    f"Where the time goes, medians in ms from navigation start, over {protocols}: " + ". ".join(t[1] for t in tti) + ".",
]
if problems:
    lines += ["", "Seen during the visits (console errors, failed requests, redirects):", ""]
    lines += [f"- {p}" for p in problems[:30]]
lines += [""]
lines += [f"**Over budget:** {f}." for f in failures] if failures else ["Every budget met."]
section = "\n".join(lines) + "\n"

text = open(results_path).read()
start = text.find("## First visit, page by page")
if start >= 0:
    end = text.find("\n## ", start + 1)
    text = text[:start] + section + ("\n" + text[end + 1:] if end >= 0 else "")
else:
    text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + section
open(results_path, "w").write(text)
print(section)
for f in failures:
    print(f"firstvisit: OVER BUDGET: {f}", file=sys.stderr)
sys.exit(1 if failures else 0)
PY
status=$?
set -e
echo "== firstvisit: wrote its section of bench/RESULTS.md (whole run: ${run_secs} s) =="
exit "$status"
