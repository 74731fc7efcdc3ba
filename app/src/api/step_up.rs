//! Step-up in the browser: an action the server answers with 401 `step_up_required` opens the
//! step-up dialog (`components::step_up_dialog`, in the layout); once the person has confirmed
//! it's them the action is sent again, once. Several actions waiting at the same time share
//! the one dialog and its answer.

use std::cell::RefCell;

use futures_channel::oneshot;
use leptos::prelude::*;

thread_local! {
    static OPEN: ArcRwSignal<bool> = ArcRwSignal::new(false);
    static PROOF: ArcRwSignal<String> = ArcRwSignal::new(String::new());
    static WAITING: RefCell<Vec<oneshot::Sender<bool>>> = const { RefCell::new(Vec::new()) };
}

/// Whether the dialog is open (the dialog shows itself while it is true).
pub fn dialog_open() -> ArcRwSignal<bool> {
    OPEN.with(Clone::clone)
}

/// What the dialog asks for: the `field` of the server's `step_up_required` (`code`,
/// `password` or `microsoft`).
pub fn proof_wanted() -> ArcRwSignal<String> {
    PROOF.with(Clone::clone)
}

/// Opens the dialog asking for `proof` and waits: `true` when the person confirmed it's them,
/// `false` when they cancelled (or the page went away).
pub async fn confirm(proof: &str) -> bool {
    PROOF.with(|p| p.set(proof.to_string()));
    let (answer, waiting) = oneshot::channel();
    WAITING.with(|w| w.borrow_mut().push(answer));
    OPEN.with(|open| open.set(true));
    waiting.await.unwrap_or(false)
}

/// The dialog's answer to every action waiting for it.
pub fn finish(confirmed: bool) {
    OPEN.with(|open| open.set(false));
    let waiting = WAITING.with(|w| std::mem::take(&mut *w.borrow_mut()));
    for answer in waiting {
        let _ = answer.send(confirmed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;

    #[test]
    fn every_waiting_action_gets_the_one_answer_and_the_dialog_closes() {
        let first = confirm("code");
        let second = confirm("code");
        // Nothing is polled yet: register them by polling once.
        let waker = futures_util::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut first = Box::pin(first);
        let mut second = Box::pin(second);
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert!(dialog_open().get_untracked());
        assert_eq!(proof_wanted().get_untracked(), "code");
        finish(true);
        assert!(!dialog_open().get_untracked());
        assert_eq!(first.as_mut().poll(&mut cx), std::task::Poll::Ready(true));
        assert_eq!(second.as_mut().poll(&mut cx), std::task::Poll::Ready(true));
        let third = confirm("password");
        let mut third = Box::pin(third);
        assert!(third.as_mut().poll(&mut cx).is_pending());
        finish(false);
        assert_eq!(third.as_mut().poll(&mut cx), std::task::Poll::Ready(false));
    }
}
