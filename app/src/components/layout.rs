//! The portal's frame: top bar, side navigation, content area and footer.
//!
//! Below 768 px the navigation collapses behind a menu button; the button works once the
//! page has hydrated, and choosing a destination closes the menu again.
//!
//! The navigation starts with the pages everyone has; "Single sign-on" (organisation admins)
//! and "Provider console" (carrier staff) join once `/me` has loaded in the browser, so the
//! server and the first client render agree and nobody else ever sees them.
//!
//! The sign-in pages (`/login…`, `/invite/…`, `/reset-password/…`) and the enrolment that a
//! sign-in may require (`/security?enrol=required`) get a minimal centred frame instead: the
//! product name above the page's card, no navigation and no user menu, because there is no
//! full session yet to use them with.

use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_location, use_query_map},
};

use crate::api::auth::MeResponse;
use crate::api::org::set_selected_org;
use crate::components::org_switcher::OrgSwitcher;
use crate::components::step_up_dialog::StepUpDialog;
use crate::components::user_menu::{provide_current_user, MeState, UserMenu};
use crate::product::{BUILD_VERSION, PRODUCT_NAME};

/// One entry of the side navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NavItem {
    /// The visible label.
    pub label: &'static str,
    /// The page's path.
    pub href: &'static str,
    /// The heading it is listed under ([`NAV_GROUPS`]).
    pub group: &'static str,
}

/// The navigation's headings, in display order. Grouping keeps fourteen destinations
/// scannable, on a phone too, where the whole list is one scrolling panel.
pub const NAV_GROUPS: &[&str] = &["Monitor", "Phone numbers", "Administration"];

const fn item(label: &'static str, href: &'static str, group: &'static str) -> NavItem {
    NavItem { label, href, group }
}

/// The destinations in the side navigation everyone has, in display order.
pub const NAV_ITEMS: &[NavItem] = &[
    item("Overview", "/", "Monitor"),
    item("Services", "/services", "Monitor"),
    item("Calls", "/calls", "Monitor"),
    item("Analytics", "/analytics", "Monitor"),
    item("Numbers", "/numbers", "Phone numbers"),
    item(
        "Emergency addresses",
        "/emergency-addresses",
        "Phone numbers",
    ),
    item("Porting", "/porting", "Phone numbers"),
    item("Users", "/users", "Administration"),
    item("API tokens", "/api-tokens", "Administration"),
    item("Audit log", "/audit", "Administration"),
    item("Security", "/security", "Administration"),
];

/// The customer's single sign-on settings, for organisation admins.
pub const SSO_NAV_ITEM: NavItem = item("Single sign-on", "/sso", "Administration");

/// The carrier's console of customers, for staff.
pub const PROVIDER_NAV_ITEM: NavItem = item("Provider console", "/provider", "Administration");

/// Whether `me` administers a customer organisation (staff are not organisation admins).
pub fn is_organisation_admin(me: &MeResponse) -> bool {
    !me.user.staff && me.user.role.as_deref() == Some("admin")
}

/// Whether `me` is carrier staff.
pub fn is_staff(me: &MeResponse) -> bool {
    me.user.staff
}

/// The navigation entries that depend on who is signed in, after [`NAV_ITEMS`]; none while
/// `/me` is unknown.
pub fn role_nav_items(me: Option<&MeResponse>) -> Vec<NavItem> {
    let Some(me) = me else {
        return Vec::new();
    };
    let mut items = Vec::new();
    if is_organisation_admin(me) {
        items.push(SSO_NAV_ITEM);
    }
    if is_staff(me) {
        items.push(PROVIDER_NAV_ITEM);
    }
    items
}

/// The whole navigation for `me`: [`NAV_ITEMS`], then [`role_nav_items`].
pub fn nav_items(me: Option<&MeResponse>) -> Vec<NavItem> {
    NAV_ITEMS
        .iter()
        .copied()
        .chain(role_nav_items(me))
        .collect()
}

/// `items` under their headings, in [`NAV_GROUPS`] order; headings without items are left out.
pub fn nav_sections(items: &[NavItem]) -> Vec<(&'static str, Vec<NavItem>)> {
    NAV_GROUPS
        .iter()
        .map(|group| {
            let members: Vec<NavItem> = items
                .iter()
                .filter(|item| item.group == *group)
                .copied()
                .collect();
            (*group, members)
        })
        .filter(|(_, members)| !members.is_empty())
        .collect()
}

/// Path prefixes of the pages used before a full session exists.
const AUTH_PATH_PREFIXES: &[&str] = &["/login", "/invite", "/reset-password"];

/// Whether the page at `path` gets the minimal sign-in frame. `enrol_required` is the
/// Security page's `?enrol=required`, where a sign-in waits for an authenticator app.
pub fn uses_auth_layout(path: &str, enrol_required: bool) -> bool {
    let under = |prefix: &str| {
        path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    AUTH_PATH_PREFIXES.iter().any(|prefix| under(prefix)) || (enrol_required && under("/security"))
}

/// Whether the query's `enrol` parameter asks for the enrolment a sign-in requires.
pub fn is_enrolment_required(enrol: Option<&str>) -> bool {
    enrol == Some("required")
}

/// Whether `href` is the current page or one of its sub-pages.
pub fn is_current(href: &str, path: &str) -> bool {
    if href == "/" {
        path == "/"
    } else {
        path == href || path.starts_with(&format!("{href}/"))
    }
}

/// The frame around every page.
#[component]
pub fn AppLayout(children: Children) -> impl IntoView {
    let (menu_open, set_menu_open) = signal(false);
    let location = use_location();
    let query = use_query_map();
    let auth_layout = Memo::new(move |_| {
        let enrol = query.with(|q| is_enrolment_required(q.get("enrol").as_deref()));
        location.pathname.with(|path| uses_auth_layout(path, enrol))
    });
    let current = provide_current_user(auth_layout.into());
    let sections = move || {
        let me = match current.me.get() {
            Some(MeState::SignedIn(me)) => Some(me),
            _ => None,
        };
        nav_sections(&nav_items(me.as_ref()))
    };
    // The sign-in pages start a new session, maybe someone else's: forget which customer
    // staff were viewing in this tab.
    Effect::new(move |_| {
        if auth_layout.get() {
            set_selected_org(None);
        }
    });
    // Effects run only in the browser, so this marks the page as hydrated (tests wait for it).
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    // Any navigation closes the small-screen menu.
    Effect::new(move |_| {
        location.pathname.track();
        set_menu_open.set(false);
    });

    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <div
            class="app"
            class:menu-open=move || menu_open.get()
            class:auth-layout=move || auth_layout.get()
            data-hydrated=move || if hydrated.get() { "true" } else { "false" }
        >
            <Show when=move || !auth_layout.get()>
                <header class="topbar">
                    <button
                        type="button"
                        class="menu-button"
                        aria-controls="sidenav"
                        aria-expanded=move || if menu_open.get() { "true" } else { "false" }
                        aria-label="Menu"
                        on:click=move |_| set_menu_open.update(|open| *open = !*open)
                    >
                        <svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22">
                            <path d="M3 6h18M3 12h18M3 18h18" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
                        </svg>
                    </button>
                    <a class="brand" href="/">
                        <BrandMark />
                        <span>{PRODUCT_NAME}</span>
                    </a>
                    <div class="user-menu" id="user-menu">
                        <UserMenu placement="topbar" />
                    </div>
                </header>
                <nav id="sidenav" class="sidenav" aria-label="Main">
                    <ul class="nav-groups">
                        {move || {
                            sections()
                                .into_iter()
                                .map(|(group, items)| {
                                    let heading_id = format!("nav-{}", group.to_lowercase());
                                    view! {
                                        <li class="nav-group">
                                            <h2 class="nav-heading" id=heading_id.clone()>{group}</h2>
                                            <ul aria-labelledby=heading_id>
                                                {items
                                                    .into_iter()
                                                    .map(|item| view! { <NavLink item=item close_menu=set_menu_open /> })
                                                    .collect_view()}
                                            </ul>
                                        </li>
                                    }
                                })
                                .collect_view()
                        }}
                    </ul>
                    <div class="sidenav-user">
                        <UserMenu placement="sidenav" />
                    </div>
                </nav>
            </Show>
            <main id="main" class="content" tabindex="-1">
                <Show when=move || auth_layout.get()>
                    <p class="auth-brand">
                        <BrandMark />
                        <span>{PRODUCT_NAME}</span>
                    </p>
                </Show>
                <Show when=move || !auth_layout.get()>
                    <OrgSwitcher />
                </Show>
                {children()}
            </main>
            <Show when=move || !auth_layout.get()>
                <StepUpDialog />
            </Show>
            <footer class="footer">
                <span>{PRODUCT_NAME}</span>
                <span class="version">"Version " {BUILD_VERSION}</span>
            </footer>
        </div>
    }
}

/// One entry of the side navigation, marked `aria-current="page"` on its page.
#[component]
fn NavLink(item: NavItem, close_menu: WriteSignal<bool>) -> impl IntoView {
    let location = use_location();
    let href = item.href;
    view! {
        <li>
            <A
                href=href
                attr:class="nav-link"
                on:click=move |_| close_menu.set(false)
                attr:aria-current=move || is_current(href, &location.pathname.get()).then_some("page")
            >
                {item.label}
            </A>
        </li>
    }
}

/// The product's mark (a handset), decorative.
#[component]
fn BrandMark() -> impl IntoView {
    view! {
        <svg aria-hidden="true" class="brand-mark" viewBox="0 0 24 24" width="24" height="24">
            <path d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1l-2.22 2.23z" fill="currentColor" />
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::auth::{MeUser, OrganisationSummary};

    fn me(role: Option<&str>, staff: bool) -> MeResponse {
        MeResponse {
            user: MeUser {
                id: "u1".to_string(),
                email: "ana@example.com".to_string(),
                name: "Ana".to_string(),
                role: role.map(str::to_string),
                staff,
                mfa_enabled: false,
                has_password: true,
                auth_method: "password".to_string(),
                email_codes: false,
                mfa_methods_allowed: Vec::new(),
            },
            organisation: (!staff).then(|| OrganisationSummary {
                id: "o1".to_string(),
                slug: "contoso".to_string(),
                name: "Contoso".to_string(),
            }),
        }
    }

    fn labels(items: &[NavItem]) -> Vec<&'static str> {
        items.iter().map(|item| item.label).collect()
    }

    #[test]
    fn overview_is_current_only_on_the_root() {
        assert!(is_current("/", "/"));
        assert!(!is_current("/", "/numbers"));
    }

    #[test]
    fn sub_pages_mark_their_section() {
        assert!(is_current("/services", "/services"));
        assert!(is_current("/services", "/services/42"));
        assert!(!is_current("/services", "/services-old"));
    }

    const COMMON: [&str; 11] = [
        "Overview",
        "Services",
        "Calls",
        "Analytics",
        "Numbers",
        "Emergency addresses",
        "Porting",
        "Users",
        "API tokens",
        "Audit log",
        "Security",
    ];

    #[test]
    fn every_page_of_the_design_is_in_the_navigation() {
        let hrefs: Vec<&str> = NAV_ITEMS.iter().map(|item| item.href).collect();
        for href in [
            "/",
            "/services",
            "/numbers",
            "/emergency-addresses",
            "/calls",
            "/analytics",
            "/porting",
            "/users",
            "/api-tokens",
            "/audit",
            "/security",
        ] {
            assert!(hrefs.contains(&href), "{href}");
        }
        assert_eq!(labels(NAV_ITEMS), COMMON);
    }

    #[test]
    fn sections_keep_the_group_order_and_drop_empty_groups() {
        let sections = nav_sections(&nav_items(Some(&me(None, true))));
        let groups: Vec<&str> = sections.iter().map(|(group, _)| *group).collect();
        assert_eq!(groups, ["Monitor", "Phone numbers", "Administration"]);
        assert_eq!(sections[0].1[0].label, "Overview");
        assert_eq!(
            sections[2].1.last().map(|item| item.label),
            Some("Provider console")
        );
        let only_monitor = nav_sections(&NAV_ITEMS[..2]);
        assert_eq!(only_monitor.len(), 1);
        // Every item belongs to a known group, so none is silently hidden.
        assert!(NAV_ITEMS
            .iter()
            .all(|item| NAV_GROUPS.contains(&item.group)));
    }

    #[test]
    fn organisation_admins_also_get_single_sign_on() {
        let items = nav_items(Some(&me(Some("admin"), false)));
        assert_eq!(labels(&items[COMMON.len()..]), ["Single sign-on"]);
        assert_eq!(items[COMMON.len()].href, "/sso");
    }

    #[test]
    fn staff_also_get_the_provider_console() {
        let items = nav_items(Some(&me(None, true)));
        assert_eq!(labels(&items[COMMON.len()..]), ["Provider console"]);
        assert_eq!(items[COMMON.len()].href, "/provider");
        // A role on a staff account does not make it an organisation admin.
        assert!(!is_organisation_admin(&me(Some("admin"), true)));
    }

    #[test]
    fn other_users_and_unknown_users_get_the_common_pages_only() {
        for role in ["engineer", "viewer"] {
            assert_eq!(
                labels(&nav_items(Some(&me(Some(role), false)))),
                COMMON,
                "{role}"
            );
        }
        assert_eq!(labels(&nav_items(None)), COMMON);
        assert!(role_nav_items(None).is_empty());
    }

    #[test]
    fn sign_in_pages_use_the_minimal_frame() {
        for path in [
            "/login",
            "/login/mfa",
            "/invite/abc",
            "/reset-password/xyz",
            "/invite",
        ] {
            assert!(uses_auth_layout(path, false), "{path}");
        }
        for path in [
            "/",
            "/security",
            "/calls",
            "/login-history",
            "/invitations",
            "/users/login",
        ] {
            assert!(!uses_auth_layout(path, false), "{path}");
        }
    }

    #[test]
    fn the_required_enrolment_uses_the_minimal_frame() {
        assert!(uses_auth_layout("/security", true));
        assert!(!uses_auth_layout("/calls", true));
        assert!(is_enrolment_required(Some("required")));
        assert!(!is_enrolment_required(Some("yes")));
        assert!(!is_enrolment_required(None));
    }
}
