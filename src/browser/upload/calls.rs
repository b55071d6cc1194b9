//! The page's server calls, tried again while they fail for a passing reason.

use crate::api::ApiError;
use crate::browser::runtime::sleep;
use crate::core::retry;

/// Makes a server call, trying again a few times (with the retry policy's delays) while
/// the failure is transient: the server or store briefly away, or a rate limit.
pub async fn retrying<T, F, Fut>(mut call: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match call().await {
            Err(err) if err.is_transient() => {
                match retry::call_delay(attempt, js_sys::Math::random(), err.is_throttle()) {
                    Some(delay) => sleep(delay).await,
                    None => return Err(err),
                }
            }
            result => return result,
        }
    }
}
