//! The sink never takes the node down by panicking.
//!
//! A polkadot-sdk node installs `sp_panic_handler`, whose hook ends the whole process (`exit(1)`) on a panic in
//! any thread that does not hold an `AbortGuard`: `catch_unwind` alone never gets to run. So every thread that
//! runs sink code holds [`sp_panic_handler::AbortGuard::force_unwind`] while it does: the encode pool's threads
//! for their lifetime, and the shipping loop's thread while it polls the loop ([`Unwinding`]). The loop then turns
//! a panic into [`SinkError::Panicked`] and restarts from its persisted state, like after any other failure.

use std::{
	any::Any,
	future::Future,
	pin::Pin,
	task::{Context, Poll},
};

use crate::error::SinkError;

/// A future polled with panics set to unwind on the polling thread (the guard is per thread and not `Send`, so it
/// is taken around each poll rather than held across awaits).
pub struct Unwinding<F>(pub F);

impl<F: Future + Unpin> Future for Unwinding<F> {
	type Output = F::Output;

	fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
		let _unwind = sp_panic_handler::AbortGuard::force_unwind();
		Pin::new(&mut self.0).poll(cx)
	}
}

/// A panic's message, for the error that replaces it.
pub fn reason(panic: &(dyn Any + Send)) -> String {
	panic
		.downcast_ref::<&str>()
		.map(|s| s.to_string())
		.or_else(|| panic.downcast_ref::<String>().cloned())
		.unwrap_or_else(|| "(no message)".into())
}

/// The error a caught panic becomes.
pub fn error(where_: &str, panic: &(dyn Any + Send)) -> SinkError {
	SinkError::Panicked(format!("{where_} panicked: {} (a bug: please report it with the log)", reason(panic)))
}
