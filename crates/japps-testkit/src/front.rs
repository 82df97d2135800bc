//! A round-robin TCP front for replicas, like a Kubernetes Service with readiness checks:
//! each new connection goes to the next backend, and a backend that refuses the connection
//! (a killed replica) is skipped for the next one.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Accepts on one address and spreads connections over the backends until dropped.
#[derive(Debug)]
pub struct RoundRobin {
    served: Arc<Vec<AtomicU64>>,
    accept: JoinHandle<()>,
}

impl RoundRobin {
    /// Listens on `127.0.0.1:port` (panics when it is taken) in front of `backends`.
    pub async fn start(port: u16, backends: Vec<SocketAddr>) -> RoundRobin {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|err| panic!("the front cannot listen on port {port}: {err}"));
        let served: Arc<Vec<AtomicU64>> = Arc::new(backends.iter().map(|_| 0.into()).collect());
        let next = Arc::new(AtomicUsize::new(0));
        let backends = Arc::new(backends);
        let counts = Arc::clone(&served);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let first = next.fetch_add(1, Ordering::Relaxed);
                let (backends, counts) = (Arc::clone(&backends), Arc::clone(&counts));
                tokio::spawn(async move {
                    for offset in 0..backends.len() {
                        let index = (first + offset) % backends.len();
                        if let Ok(backend) = TcpStream::connect(backends[index]).await {
                            counts[index].fetch_add(1, Ordering::Relaxed);
                            let (mut client, mut backend) = (client, backend);
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut backend).await;
                            return;
                        }
                    }
                    // No backend at all: the client sees the connection closed.
                });
            }
        });
        RoundRobin { served, accept }
    }

    /// How many connections each backend has been given, in the order of `backends`.
    pub fn served(&self) -> Vec<u64> {
        self.served
            .iter()
            .map(|count| count.load(Ordering::Relaxed))
            .collect()
    }
}

impl Drop for RoundRobin {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
