//! Servers discovery talks to, on 127.0.0.1: a web server (HTTPS with its own CA, or plain
//! HTTP) that serves autoconfig documents by host name and path, and a DNS responder that
//! answers A, MX and SRV questions from a table (NXDOMAIN for the rest). Each can be told to
//! stall, to see the timeouts.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, MX, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio_native_tls::native_tls;

/// What the web server answers for a host and path.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this body.
    Body(String),
    /// This status, empty body.
    Status(u16),
    /// Never answer (the connection stays open).
    Stall,
}

type Routes = Arc<Mutex<HashMap<(String, String), Reply>>>;

/// A web server on 127.0.0.1.
pub struct WebServer {
    pub addr: SocketAddr,
    /// The CA that signed its certificate (HTTPS only).
    pub ca_pem: Option<PathBuf>,
    routes: Routes,
    /// Every request seen: "host path".
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl WebServer {
    /// HTTPS, with a certificate for `names` from a CA written to `dir/web-ca.pem`.
    pub fn https(dir: &Path, names: &[&str]) -> WebServer {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Tern Test Web CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let leaf_params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
        let ca_pem = dir.join("web-ca.pem");
        std::fs::write(&ca_pem, ca.pem()).unwrap();
        let identity = native_tls::Identity::from_pkcs8(
            leaf.pem().as_bytes(),
            leaf_key.serialize_pem().as_bytes(),
        )
        .unwrap();
        let acceptor = native_tls::TlsAcceptor::new(identity).unwrap();
        WebServer::start(Some(acceptor), Some(ca_pem))
    }

    /// Plain HTTP.
    pub fn http() -> WebServer {
        WebServer::start(None, None)
    }

    fn start(tls: Option<native_tls::TlsAcceptor>, ca_pem: Option<PathBuf>) -> WebServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: Routes = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, q) = (Arc::clone(&routes), Arc::clone(&requests));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (routes, requests, tls) = (Arc::clone(&r), Arc::clone(&q), tls.clone());
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream) {
                                serve(stream, &routes, &requests);
                            }
                        }
                        None => serve(stream, &routes, &requests),
                    }
                });
            }
        });
        WebServer {
            addr,
            ca_pem,
            routes,
            requests,
        }
    }

    /// Answers `reply` for `host` and `path` (without the query string).
    pub fn route(&self, host: &str, path: &str, reply: Reply) {
        self.routes
            .lock()
            .unwrap()
            .insert((host.to_ascii_lowercase(), path.to_owned()), reply);
    }

    /// The base URL (http) of this server.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

fn serve<S: Read + Write>(stream: S, routes: &Routes, requests: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream);
    let mut first = String::new();
    if reader.read_line(&mut first).unwrap_or(0) == 0 {
        return;
    }
    let mut host = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("host")
        {
            let value = value.trim();
            host = value
                .rsplit_once(':')
                .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
                .map_or(value, |(h, _)| h)
                .to_ascii_lowercase();
        }
    }
    let target = first.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let path = target.split('?').next().unwrap_or("/").to_owned();
    requests.lock().unwrap().push(format!("{host} {target}"));
    let reply = routes
        .lock()
        .unwrap()
        .get(&(host, path))
        .cloned()
        .unwrap_or(Reply::Status(404));
    let (status, body) = match reply {
        Reply::Body(body) => (200, body),
        Reply::Status(status) => (status, String::new()),
        Reply::Stall => {
            std::thread::sleep(Duration::from_secs(60));
            return;
        }
    };
    let stream = reader.get_mut();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

/// A DNS responder on 127.0.0.1 (UDP).
pub struct DnsServer {
    pub addr: SocketAddr,
    records: Arc<Mutex<Vec<Record>>>,
    stalled: Arc<Mutex<Vec<String>>>,
    /// Every question seen: "name TYPE".
    pub questions: Arc<Mutex<Vec<String>>>,
}

impl DnsServer {
    pub fn start() -> DnsServer {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        let records: Arc<Mutex<Vec<Record>>> = Arc::default();
        let stalled: Arc<Mutex<Vec<String>>> = Arc::default();
        let questions: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, s, q) = (
            Arc::clone(&records),
            Arc::clone(&stalled),
            Arc::clone(&questions),
        );
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            loop {
                let Ok((n, peer)) = socket.recv_from(&mut buffer) else {
                    continue;
                };
                let Ok(query) = Message::from_vec(&buffer[..n]) else {
                    continue;
                };
                let mut response =
                    Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
                response.metadata.recursion_desired = query.metadata.recursion_desired;
                response.metadata.recursion_available = true;
                response.metadata.authoritative = true;
                let mut stall = false;
                for question in &query.queries {
                    let name = question.name.to_ascii().to_ascii_lowercase();
                    q.lock()
                        .unwrap()
                        .push(format!("{name} {}", question.query_type));
                    stall |= s.lock().unwrap().contains(&name);
                    let all = r.lock().unwrap();
                    let known = all
                        .iter()
                        .any(|rec| rec.name.to_ascii().eq_ignore_ascii_case(&name));
                    for record in all.iter().filter(|rec| {
                        rec.name.to_ascii().eq_ignore_ascii_case(&name)
                            && rec.record_type() == question.query_type
                    }) {
                        response.add_answer(record.clone());
                    }
                    if !known {
                        response.metadata.response_code = ResponseCode::NXDomain;
                    }
                    response.add_query(question.clone());
                }
                if stall {
                    continue;
                }
                if let Ok(bytes) = response.to_vec() {
                    let _ = socket.send_to(&bytes, peer);
                }
            }
        });
        DnsServer {
            addr,
            records,
            stalled,
            questions,
        }
    }

    fn add(&self, name: &str, data: RData) {
        let name = Name::from_ascii(format!("{}.", name.trim_end_matches('.'))).unwrap();
        self.records
            .lock()
            .unwrap()
            .push(Record::from_rdata(name, 60, data));
    }

    /// `name` has the address 127.0.0.1.
    pub fn a(&self, name: &str) {
        self.add(name, RData::A(A::new(127, 0, 0, 1)));
    }

    pub fn mx(&self, name: &str, preference: u16, host: &str) {
        let host = Name::from_ascii(format!("{host}.")).unwrap();
        self.add(name, RData::MX(MX::new(preference, host)));
    }

    pub fn srv(&self, name: &str, priority: u16, port: u16, target: &str) {
        let target = Name::from_ascii(format!("{}.", target.trim_end_matches('.'))).unwrap();
        self.add(name, RData::SRV(SRV::new(priority, 0, port, target)));
    }

    /// Questions for `name` are never answered.
    pub fn stall(&self, name: &str) {
        self.stalled
            .lock()
            .unwrap()
            .push(format!("{}.", name.trim_end_matches('.')).to_ascii_lowercase());
    }
}

/// An autoconfig document naming the given servers: (type, host, port, socketType).
pub fn autoconfig_xml(
    id: &str,
    incoming: &[(&str, &str, u16, &str)],
    smtp: &[(&str, u16, &str)],
) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\"?>\n<clientConfig version=\"1.1\">\n <emailProvider id=\"{id}\">\n  <domain>{id}</domain>\n  <displayName>{id} Mail</displayName>\n"
    );
    for (kind, host, port, socket) in incoming {
        xml.push_str(&format!(
            "  <incomingServer type=\"{kind}\"><hostname>{host}</hostname><port>{port}</port><socketType>{socket}</socketType><authentication>password-cleartext</authentication><username>%EMAILADDRESS%</username></incomingServer>\n"
        ));
    }
    for (host, port, socket) in smtp {
        xml.push_str(&format!(
            "  <outgoingServer type=\"smtp\"><hostname>{host}</hostname><port>{port}</port><socketType>{socket}</socketType><authentication>password-cleartext</authentication><username>%EMAILLOCALPART%</username></outgoingServer>\n"
        ));
    }
    xml.push_str(" </emailProvider>\n</clientConfig>\n");
    xml
}

/// Discovery that asks nothing outside this machine (everything on 127.0.0.1's discard port,
/// where nothing answers), for window tests that open the wizard without looking anything up.
pub fn nowhere() -> tern::account::autoconfig::Sources {
    let nothing: std::net::SocketAddr = ([127, 0, 0, 1], 9).into();
    tern::account::autoconfig::Sources {
        ispdb: "http://127.0.0.1:9/".into(),
        connect_to: Some(nothing),
        dns_server: Some(nothing),
        ca_file: None,
        guess_ports: tern::account::autoconfig::GuessPorts {
            imaps: 9,
            imap: 9,
            pop3s: 9,
            pop3: 9,
            submissions: 9,
            submission: 9,
        },
        timeout: std::time::Duration::from_secs(3),
    }
}
