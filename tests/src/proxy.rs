//! A TCP proxy that delays every request on its way to the server, so that
//! each round trip costs at least that delay: with it, calls that overlap are
//! concurrent and calls one after the other are a chain, whatever the
//! client's own CPU time (SPEC §10 "incident to post" counts round trips).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The running proxy; dropping it stops it and closes its connections.
#[derive(Debug)]
pub struct ProxyHandle {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl ProxyHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The `host:port` of an `http://` URL (or of a bare `host:port`).
fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// Listens on a fresh loopback port and forwards each connection to
/// `upstream` (`http://host:port`), holding every chunk sent client → server
/// for `delay` after it arrived (chunks keep their order and spacing; the
/// answers come back undelayed). Returns the proxy's URL, for a client's
/// `endpoint_url`, and the handle that keeps it running.
pub async fn latency_proxy(upstream: &str, delay: Duration) -> (String, ProxyHandle) {
    let upstream = authority(upstream);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port for the proxy");
    let addr = listener.local_addr().expect("the proxy's address");
    let task = tokio::spawn(async move {
        // Owned here: aborting the accept loop drops (aborts) every connection.
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((client, _)) = accepted else { continue };
                    let upstream = upstream.clone();
                    connections.spawn(async move {
                        match TcpStream::connect(&upstream).await {
                            Ok(server) => forward(client, server, delay).await,
                            Err(e) => eprintln!("latency proxy: cannot reach {upstream}: {e}"),
                        }
                    });
                }
                Some(_) = connections.join_next() => {}
            }
        }
    });
    (format!("http://{addr}"), ProxyHandle { addr, task })
}

async fn forward(client: TcpStream, server: TcpStream, delay: Duration) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let (chunks, mut queued) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();

    // Client → server: read as it comes, stamp, and let the writer release
    // each chunk `delay` after it arrived.
    let read_requests = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if chunks.send((Instant::now() + delay, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    };
    let write_requests = async move {
        while let Some((due, chunk)) = queued.recv().await {
            tokio::time::sleep_until(due).await;
            if server_write.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = server_write.shutdown().await;
    };
    // Server → client, as is.
    let answers = async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    // Each direction closes the other side's write half when it ends.
    tokio::join!(read_requests, write_requests, answers);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_request_arrives_after_the_delay_and_the_answer_comes_back() {
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = format!("http://{}", server.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut s, _) = server.accept().await.unwrap();
            let mut buf = [0u8; 4];
            for _ in 0..2 {
                s.read_exact(&mut buf).await.unwrap();
                s.write_all(&buf).await.unwrap();
            }
        });
        let delay = Duration::from_millis(40);
        let (url, _proxy) = latency_proxy(&upstream, delay).await;
        let mut c = TcpStream::connect(authority(&url)).await.unwrap();
        for word in [b"ping", b"pong"] {
            let start = Instant::now();
            c.write_all(word).await.unwrap();
            let mut back = [0u8; 4];
            c.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, word);
            assert!(start.elapsed() >= delay, "{:?}", start.elapsed());
        }
    }
}
