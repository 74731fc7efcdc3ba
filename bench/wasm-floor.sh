#!/usr/bin/env bash
# `make bench`, part 4: where the release wasm's size goes (issue 6, "Size").
# Builds the committed tree's front end ten ways and measures each wasm as bench/wasm.sh
# does (profile wasm-release with type-erased views, wasm-bindgen, wasm-opt -Oz with
# cargo-leptos' flags, brotli quality 11):
#   leptos    the app's root replaced by one <p>: Leptos' runtime and hydration alone;
#   router    a Router with one trivial route;
#   layout    the portal's layout (navigation, user menu, customer switcher, status banner, the
#             typed API client) and the not-found page, without the other routes;
#   sign-in   layout + the sign-in page;
#   overview  layout + sign-in + the overview (charts, analytics types);
#   full      the portal as committed (every page);
#   islands   every page an #[island] (Leptos' `islands` feature: the router and layout are
#             rendered on the server only) with the pages still loading their data in the
#             browser, as DESIGN.md has them do through /api/v1.
#   islands-forms, islands-crud, islands-lists
#             what a rewrite to server-rendered pages would keep in the wasm at the least:
#             `forms` makes islands only of the pages that are forms from top to bottom
#             (sign-in, MFA code, forgotten and new password, invitation, Security, Single
#             sign-on) and the customer switcher; every other page is left out of the wasm, as
#             if it were plain server-rendered HTML. `crud` adds, whole, the pages whose
#             tables are mostly controls (Users, API tokens, Emergency addresses, the provider
#             console); `lists` adds the Numbers and Calls pages (edit dialog, call panel,
#             exports, load more). These builds measure; they are not working portals.
# Each variant is the committed tree copied to a temporary directory with app/src/lib.rs (and
# for `islands` the page attributes, the leptos feature and the wasm entry) edited; nothing
# in the working tree changes. Writes its section of bench/RESULTS.md (replacing its own).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$HOME/.cargo/bin:$root/.tools/node_modules/.bin:$PATH"
venv=$root/.tools/venv
"$venv/bin/python" -c 'import brotli' 2>/dev/null || { echo "bench: run bench/wasm.sh first (it installs brotli into .tools/venv)" >&2; exit 1; }
command -v wasm-opt >/dev/null || { echo "bench: wasm-opt is missing; run make tools" >&2; exit 1; }

work=$(mktemp -d /tmp/portal-wasm-floor.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
# Its own cargo target directory: the flags match cargo-leptos' release front end, but sharing
# target/front would make each variant rebuild the real one's crates.
export CARGO_TARGET_DIR=$root/target/wasm-floor
export RUSTFLAGS="--cfg erase_components"
export LEPTOS_OUTPUT_NAME=portal
commit=$(git rev-parse --short HEAD)

variant() { # variant NAME: a copy of HEAD in $work/NAME, edited for NAME
  local dir=$work/$1
  mkdir -p "$dir"
  git archive HEAD | tar -x -C "$dir"
  "$venv/bin/python" - "$dir" "$1" <<'PY'
import glob, re, sys
dir, name = sys.argv[1], sys.argv[2]

def edit(path, old, new, count=1):
    text = open(path).read()
    if text.count(old) != count:
        sys.exit(f"wasm-floor: {path} no longer has the text this variant edits: {old[:60]!r}")
    open(path, "w").write(text.replace(old, new))

lib = f"{dir}/app/src/lib.rs"
text = open(lib).read()
routes = re.search(r"(<Routes fallback=NotFoundPage>\n)(.*?)(\s*</Routes>)", text, re.S)
keep = {
    "layout": [],
    "sign-in": ['path!("/login")'],
    "overview": ['path!("/login")', 'path!("/")'],
}
if name in keep:
    lines = [l for l in routes.group(2).splitlines() if "<Route " in l and any(k in l for k in keep[name])]
    if not lines:
        lines = ['                    <Route path=path!("/not-a-page") view=NotFoundPage />']
    text = text[: routes.start(2)] + "\n".join(lines) + text[routes.end(2):]
elif name in ("leptos", "router"):
    body = re.search(r"\n    view! \{\n        <Title formatter.*?\n    \}\n\}", text, re.S)
    new = {
        "leptos": '\n    view! { <p>"Voice Customer Portal"</p> }\n}',
        "router": '\n    view! {\n        <Router>\n            <Routes fallback=|| view! { <p>"Not found"</p> }>\n'
                  '                <Route path=path!("/") view=|| view! { <p>"Home"</p> } />\n'
                  '            </Routes>\n        </Router>\n    }\n}',
    }[name]
    text = text[: body.start()] + new + text[body.end():]
elif name.startswith("islands"):
    # Which pages become islands: every page but the not-found one, or for islands-* a tier.
    forms = {"SignInPage", "MfaPage", "ForgotPasswordPage", "ResetPasswordPage", "InvitePage", "SecurityPage", "SsoPage"}
    crud = forms | {"EmergencyAddressesPage", "UsersPage", "ApiTokensPage", "ProviderPage"}
    tiers = {"islands-forms": forms, "islands-crud": crud, "islands-lists": crud | {"NumbersPage", "CallsPage"}}
    whole = tiers.get(name)
    island = lambda page: page != "NotFoundPage" if whole is None else page in whole
    for page in glob.glob(f"{dir}/app/src/pages/*.rs"):
        src = open(page).read()
        src = re.sub(r"#\[component\]\npub fn (\w+Page)\(\)",
                     lambda m: f"#[island]\npub fn {m.group(1)}()" if island(m.group(1)) else m.group(0), src)
        open(page, "w").write(src)
    edit(f"{dir}/app/src/components/org_switcher.rs", "#[component]\npub fn OrgSwitcher()", "#[island]\npub fn OrgSwitcher()")
    edit(f"{dir}/Cargo.toml", 'leptos = { version = "0.8.23" }', 'leptos = { version = "0.8.23", features = ["islands"] }')
    # `use app::*` links the app crate, whose islands export their hydration functions.
    edit(f"{dir}/frontend/src/lib.rs", "leptos::mount::hydrate_body(app::App);",
         "#[allow(unused_imports)]\n    use app::*;\n    leptos::mount::hydrate_islands();")
open(lib, "w").write(text)
PY
}

measure() { # measure NAME: build, bindgen, optimise, and print "NAME raw brotli islands"
  local dir=$work/$1
  local wasm=$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/frontend.wasm
  rm -f "$wasm"
  if ! (cd "$dir" && cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release) > "$dir/build.log" 2>&1; then
    tail -n 40 "$dir/build.log" >&2
    echo "bench: the $1 variant did not build" >&2
    exit 1
  fi
  wasm-bindgen "$wasm" --out-dir "$dir/pkg" --target web --no-typescript
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$dir/pkg/frontend_bg.wasm" -o "$dir/opt.wasm"
  local islands
  islands=$(grep -c '^export function' "$dir/pkg/frontend.js" || true)
  "$venv/bin/python" -c "
import brotli, sys
data = open(sys.argv[1], 'rb').read()
print(sys.argv[2], len(data), len(brotli.compress(data, quality=11)), int(sys.argv[3]) - 1)" "$dir/opt.wasm" "$1" "$islands"
}

names="leptos router layout sign-in overview full islands islands-forms islands-crud islands-lists"
: > "$work/sizes.txt"
for name in $names; do
  echo "== wasm-floor: $name =="
  variant "$name"
  measure "$name" | tee -a "$work/sizes.txt"
done

rustc_version=$(rustc --version | cut -d' ' -f2)
routes=$(git show HEAD:app/src/lib.rs | grep -c '<Route ')
"$venv/bin/python" - "$work/sizes.txt" "$root/bench/RESULTS.md" "$commit" "$rustc_version" "$routes" <<'PY'
import datetime, sys
sizes_path, results_path, commit, rustc, routes = sys.argv[1:]
routes = int(routes)
rows = [line.split() for line in open(sizes_path) if line.strip()]
size = {name: (int(raw), int(br), int(isl)) for name, raw, br, isl in rows}
what = {
    "leptos": "Leptos' runtime hydrating one element",
    "router": "+ leptos_router with one route",
    "layout": "the portal's layout, API client and not-found page, no other route",
    "sign-in": "layout + sign-in page",
    "overview": "layout + sign-in + overview",
    "full": f"the whole portal ({routes} routes)",
    "islands": "every page an island, data still loaded in the browser",
    "islands-forms": "islands: only the pages that are all form (sign-in, MFA, passwords, invitation, Security, SSO) and the switcher",
    "islands-crud": "islands-forms + Users, API tokens, Emergency addresses, provider console",
    "islands-lists": "islands-crud + Numbers, Calls",
}
kb = lambda b: f"{b / 1024:.1f} KB"
lines = [
    "## Front-end size: where it goes (issue: the portal UI)",
    "",
    f"Measured by bench/wasm-floor.sh on {datetime.date.today()} with the tree committed as {commit}, "
    f"rustc {rustc}: each variant is that tree with routes taken out of `app/src/lib.rs` (or, for "
    "`islands` and `islands-*`, pages made `#[island]`s), built with profile wasm-release and "
    "`--cfg erase_components`, wasm-bindgen, `wasm-opt -Oz` with cargo-leptos' flags, brotli 11. "
    "The `full` row is the same measure as the release build above (within a few KB: cargo-leptos "
    "also minifies the JS and hashes names).",
    "",
    "| variant | what is in it | wasm raw | wasm brotli | added by this step |",
    "| --- | --- | --- | --- | --- |",
]
prev = None
for name in ["leptos", "router", "layout", "sign-in", "overview", "full"]:
    raw, br, _ = size[name]
    step = "" if prev is None else f"+{(br - prev) / 1024:.1f} KB"
    lines.append(f"| {name} | {what[name]} | {kb(raw)} | **{kb(br)}** | {step} |")
    prev = br
raw, br, isl = size["islands"]
lines.append(f"| islands | {what['islands']} ({isl} islands) | {kb(raw)} | **{kb(br)}** | {(br - size['full'][1]) / 1024:+.1f} KB against full |")
for name in ["islands-forms", "islands-crud", "islands-lists"]:
    raw, br_variant, isl = size[name]
    lines.append(f"| {name} | {what[name]} ({isl} islands) | {kb(raw)} | **{kb(br_variant)}** | {(br_variant - size['full'][1]) / 1024:+.1f} KB against full |")
layout, full = size["layout"][1], size["full"][1]
lines += [
    "",
    f"Before any page, the layout with the router and the typed API client is {kb(layout)} of the "
    f"350 KB budget; the overview alone adds {kb(size['overview'][1] - size['sign-in'][1])}, and "
    f"the {routes - 2} other routes {kb(full - size['overview'][1])}. Islands that keep loading their data "
    f"in the browser save {kb(full - br)}: the pages are forms, filters, dialogs and charts, so "
    "nearly all of their code is interactive and stays in the wasm whichever way it hydrates.",
    "",
    "The `islands-*` rows bound a rewrite to server-rendered pages from below: with every page "
    "that shows data rendered on the server and left out of the wasm, the pages that are forms "
    f"through and through still come to {kb(size['islands-forms'][1])}. The pages whose tables "
    f"are mostly controls add {kb(size['islands-crud'][1] - size['islands-forms'][1])} as whole islands and "
    f"Numbers and Calls {kb(size['islands-lists'][1] - size['islands-crud'][1])}; only part of that "
    "(their lists) could move to the server, and the charts' tooltips and keyboard focus, the export "
    "progress and 'load more' come on top.",
    "",
]
section = "\n".join(lines)
text = open(results_path).read()
start = text.find("## Front-end size: where it goes")
if start >= 0:
    end = text.find("\n## ", start + 1)
    text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
else:
    text = text.rstrip("\n") + "\n\n" + section
open(results_path, "w").write(text)
print(section)
PY
