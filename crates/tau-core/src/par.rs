//! Parallel iteration with rayon where the `parallel` feature is on, plain
//! iteration where it is off (for `wasm32-unknown-unknown`). Both collect in
//! order, so results never depend on the feature or the number of threads.

#[cfg(feature = "parallel")]
pub(crate) use rayon::join;
#[cfg(feature = "parallel")]
pub(crate) use rayon::prelude::*;

/// `rayon::join`: `a` then `b`.
#[cfg(not(feature = "parallel"))]
pub(crate) fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA,
    B: FnOnce() -> RB,
{
    (a(), b())
}

/// `into_par_iter()` as a sequential iterator.
#[cfg(not(feature = "parallel"))]
pub(crate) trait IntoParallelIterator: IntoIterator + Sized {
    fn into_par_iter(self) -> Self::IntoIter {
        self.into_iter()
    }
}

#[cfg(not(feature = "parallel"))]
impl<I: IntoIterator> IntoParallelIterator for I {}

/// `par_iter()` on a slice as a sequential iterator.
#[cfg(not(feature = "parallel"))]
pub(crate) trait ParallelSlice<T> {
    fn par_iter(&self) -> std::slice::Iter<'_, T>;
}

#[cfg(not(feature = "parallel"))]
impl<T> ParallelSlice<T> for [T] {
    fn par_iter(&self) -> std::slice::Iter<'_, T> {
        self.iter()
    }
}
