//! One Redis connection that survives Redis going away: a command that fails because the
//! server is unreachable, restarting or still loading its data is retried with backoff, and
//! the pause is said once on stderr (and its end), so a worker waits instead of failing.

use std::time::{Duration, Instant};

use redis::{ErrorKind, RedisError, ServerErrorKind};

use super::ClusterError;

/// Longest wait between two attempts to reach Redis.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// First wait after a failure; doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// How long one connect or one reply may take before the server counts as unreachable.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the first contact may take before the server counts as not Redis.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// A lazily (re)connected Redis connection.
pub struct Conn {
    client: redis::Client,
    url: String,
    con: Option<redis::Connection>,
    /// Who uses this connection, for log lines ("frontier", "claims", "heartbeat").
    role: &'static str,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("url", &self.url)
            .field("role", &self.role)
            .finish()
    }
}

/// Whether an error means "Redis is not there right now" (wait and retry) rather than "this
/// command is wrong" (fail).
fn is_transient(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || e.is_timeout()
        || matches!(
            e.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
            )
        )
}

/// The kind of the OS error under a Redis error, if there is one.
fn io_kind(e: &RedisError) -> Option<std::io::ErrorKind> {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind)
}

/// Whether a Redis version (`major.minor.patch`) is at least [`super::MIN_REDIS`]. A version
/// that does not parse is given the benefit of the doubt: a script error would say more.
fn supported(version: &str) -> bool {
    let number = |v: &str| -> Option<(u32, u32)> {
        let mut parts = v.split('.');
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    };
    match (number(version), number(super::MIN_REDIS)) {
        (Some(have), Some(need)) => have >= need,
        _ => true,
    }
}

impl Conn {
    /// A connection to `url` (checked by `config::check_redis_url`); nothing is sent yet.
    pub fn new(url: &str, role: &'static str) -> Result<Conn, ClusterError> {
        let client = redis::Client::open(url).map_err(|e| ClusterError::BadUrl {
            url: url.to_string(),
            detail: e.to_string(),
        })?;
        Ok(Conn {
            client,
            url: url.to_string(),
            con: None,
            role,
        })
    }

    /// Another connection to the same server.
    pub fn another(&self, role: &'static str) -> Conn {
        Conn {
            client: self.client.clone(),
            url: self.url.clone(),
            con: None,
            role,
        }
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn connect(&mut self) -> Result<&mut redis::Connection, RedisError> {
        if self.con.is_none() {
            let con = self.client.get_connection_with_timeout(IO_TIMEOUT)?;
            con.set_read_timeout(Some(IO_TIMEOUT))?;
            con.set_write_timeout(Some(IO_TIMEOUT))?;
            self.con = Some(con);
        }
        match self.con.as_mut() {
            Some(con) => Ok(con),
            // Just set above.
            None => Err(RedisError::from((ErrorKind::Client, "no connection"))),
        }
    }

    /// Checks once, without retrying, that the server answers and is Redis: a PING that
    /// gets PONG and an `INFO server` that names a `redis_version`. Nothing listening (or a
    /// Redis still loading its data) is [`ClusterError::Unreachable`]; a server that answers
    /// something else, or nothing within [`CHECK_TIMEOUT`], is [`ClusterError::NotRedis`].
    pub fn check(&mut self) -> Result<String, ClusterError> {
        let url = self.url.clone();
        let not_redis = |e: &dyn std::fmt::Display| ClusterError::NotRedis {
            url: url.clone(),
            detail: e.to_string(),
        };
        let unreachable = |e: &RedisError| {
            let absent = e.is_connection_refusal()
                || io_kind(e).is_some_and(|k| {
                    matches!(
                        k,
                        std::io::ErrorKind::HostUnreachable
                            | std::io::ErrorKind::NetworkUnreachable
                            | std::io::ErrorKind::AddrNotAvailable
                    )
                })
                || matches!(
                    e.kind(),
                    ErrorKind::Server(ServerErrorKind::BusyLoading | ServerErrorKind::TryAgain)
                );
            absent.then(|| ClusterError::Unreachable {
                url: url.clone(),
                detail: e.to_string(),
            })
        };
        self.con = None;
        let con = self
            .client
            .get_connection_with_timeout(CHECK_TIMEOUT)
            .map_err(|e| unreachable(&e).unwrap_or_else(|| not_redis(&e)))?;
        let mut con = con;
        con.set_read_timeout(Some(CHECK_TIMEOUT))
            .and_then(|()| con.set_write_timeout(Some(CHECK_TIMEOUT)))
            .map_err(|e| not_redis(&e))?;
        let pong: String = redis::cmd("PING")
            .query(&mut con)
            .map_err(|e| unreachable(&e).unwrap_or_else(|| not_redis(&e)))?;
        if pong != "PONG" {
            return Err(not_redis(&format!("PING answered {pong:?}")));
        }
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query(&mut con)
            .map_err(|e| not_redis(&e))?;
        let version = info
            .lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .map(|v| v.trim().to_string())
            .ok_or_else(|| not_redis(&"INFO names no redis_version"))?;
        if !supported(&version) {
            return Err(ClusterError::TooOld {
                url: self.url.clone(),
                version,
            });
        }
        con.set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|()| con.set_write_timeout(Some(IO_TIMEOUT)))
            .map_err(|e| not_redis(&e))?;
        self.con = Some(con);
        Ok(version)
    }

    /// Runs `f` on the connection, reconnecting and retrying with backoff for as long as
    /// Redis is unreachable, restarting or loading. `f` must be safe to repeat: a command
    /// whose reply was lost may have run.
    pub fn run<T>(
        &mut self,
        mut f: impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, ClusterError> {
        let mut backoff = FIRST_BACKOFF;
        let mut paused: Option<Instant> = None;
        loop {
            let result = match self.connect() {
                Ok(con) => f(con),
                Err(e) => Err(e),
            };
            match result {
                Ok(v) => {
                    if let Some(since) = paused {
                        tracing::warn!(
                            role = self.role,
                            "Redis at {} is back after {:.1}s; resuming",
                            self.url,
                            since.elapsed().as_secs_f64()
                        );
                    }
                    return Ok(v);
                }
                Err(e) if is_transient(&e) => {
                    self.con = None;
                    if paused.is_none() {
                        paused = Some(Instant::now());
                        tracing::warn!(
                            role = self.role,
                            "Redis at {} is unreachable ({e}); pausing and retrying with backoff (nothing is lost)",
                            self.url
                        );
                    } else {
                        tracing::debug!(role = self.role, "Redis still unreachable: {e}");
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(e) => {
                    self.con = None;
                    return Err(ClusterError::Redis {
                        url: self.url.clone(),
                        detail: e.to_string(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::supported;

    #[test]
    fn redis_before_6_2_is_refused() {
        assert!(supported("7.0.15"));
        assert!(supported("6.2.0"));
        assert!(supported("10.0.1"));
        assert!(!supported("6.0.16"));
        assert!(!supported("5.0.7"));
        assert!(supported("unstable"));
    }
}
