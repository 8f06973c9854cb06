//! SigV4 for the API behind API Gateway's IAM authorizer (SPEC §3, §12):
//! service `execute-api`, the region of the endpoint's host or of the
//! standard AWS chain, credentials from that chain.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials as _, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use hyper::body::Bytes;
use hyper::http::Request;

use super::ClientError;

/// The signing name of API Gateway's invoke API.
pub const SERVICE: &str = "execute-api";

/// The credential chain and the region requests are signed for. Shows
/// neither key nor token, not even in `Debug`.
#[derive(Clone)]
pub struct Signer {
    credentials: SharedCredentialsProvider,
    region: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("service", &SERVICE)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The standard AWS chain (environment, `AWS_PROFILE` and its files,
    /// web identity, ECS, IMDS), resolved lazily on the first request; the
    /// region from `host` when it is an `execute-api` host, else the chain's.
    pub async fn from_chain(host: &str) -> Result<Self, ClientError> {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                        aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https(),
            )
            .load()
            .await;
        let region = region_of_host(host)
            .or_else(|| config.region().map(|r| r.as_ref().to_owned()))
            .ok_or_else(|| {
                ClientError::Credentials(format!(
                    "no AWS region to sign for: {host} is not an execute-api host; set AWS_REGION"
                ))
            })?;
        let credentials = config.credentials_provider().ok_or_else(|| {
            ClientError::Credentials("the AWS configuration has no credential provider".into())
        })?;
        Ok(Self { credentials, region })
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Signs `request` now with the chain's current credentials.
    pub async fn sign(&self, request: &mut Request<Bytes>) -> Result<(), ClientError> {
        let credentials = self.credentials.provide_credentials().await.map_err(|e| {
            // The provider's error names what it tried; it carries no secret.
            ClientError::Credentials(format!(
                "no AWS credentials from the standard chain: {}",
                error_chain(&e)
            ))
        })?;
        sign_at(request, &credentials, &self.region, SystemTime::now())
    }
}

/// Adds `x-amz-date`, `x-amz-security-token` (with a session token) and
/// `authorization` to `request`, signed at `time`. Every header already on
/// the request is signed (the library leaves out `user-agent` and the like).
pub fn sign_at(
    request: &mut Request<Bytes>,
    credentials: &Credentials,
    region: &str,
    time: SystemTime,
) -> Result<(), ClientError> {
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| ClientError::Credentials(format!("signing parameters: {e}")))?
        .into();
    let uri = request.uri().to_string();
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect();
    let signable = SignableRequest::new(
        request.method().as_str(),
        &uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body()),
    )
    .map_err(|e| ClientError::Credentials(format!("the request cannot be signed: {e}")))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| ClientError::Credentials(format!("the request cannot be signed: {e}")))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

/// The region of an API Gateway host, `ID.execute-api.REGION.amazonaws.com`
/// (or `.amazonaws.com.cn`); `None` for any other host (a custom domain).
pub fn region_of_host(host: &str) -> Option<String> {
    let mut labels = host.split('.');
    let _id = labels.next()?;
    (labels.next()? == "execute-api").then_some(())?;
    let region = labels.next()?;
    let rest: Vec<&str> = labels.collect();
    let aws = matches!(rest.as_slice(), ["amazonaws", "com"] | ["amazonaws", "com", "cn"]);
    (aws && !region.is_empty()).then(|| region.to_owned())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hyper::http::{HeaderValue, Method, header};

    use super::*;

    // The expected headers were computed with botocore's SigV4Auth (the
    // reference implementation; botocore 1.44.5 from the project's .venv),
    // the same request, credentials and time, service execute-api, region
    // eu-west-1:
    //
    // .venv/bin/python -c '
    // import datetime; from unittest import mock
    // from botocore.auth import SigV4Auth; from botocore.awsrequest import AWSRequest
    // from botocore.credentials import Credentials
    // r = AWSRequest(method=METHOD, url=URL, data=BODY, headers=HEADERS)  # as in each test
    // with mock.patch("botocore.auth.get_current_datetime",
    //                 return_value=datetime.datetime(2026, 12, 2, 10, 0, 0)):
    //     SigV4Auth(Credentials(KEY, SECRET, TOKEN_OR_NONE), "execute-api", "eu-west-1").add_auth(r)
    // print(r.headers["Authorization"])'
    //
    // The example keys of AWS's SigV4 test suite; not real credentials.
    const KEY: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLETOKEN";
    const HOST: &str = "abc123defg.execute-api.eu-west-1.amazonaws.com";

    fn at_ten() -> SystemTime {
        // 2026-12-02T10:00:00Z
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_205_600)
    }

    fn request(method: Method, uri: &str, body: &'static str, extra: &[(&str, &str)]) -> Request<Bytes> {
        let mut r = Request::builder()
            .method(method)
            .uri(uri)
            .body(Bytes::from_static(body.as_bytes()))
            .expect("a valid request");
        r.headers_mut()
            .insert(header::HOST, HeaderValue::from_static(HOST));
        r.headers_mut()
            .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        for (k, v) in extra {
            r.headers_mut().insert(
                header::HeaderName::from_bytes(k.as_bytes()).expect("a header name"),
                HeaderValue::from_str(v).expect("a header value"),
            );
        }
        r
    }

    fn header<'a>(r: &'a Request<Bytes>, name: &str) -> &'a str {
        r.headers()
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .expect("ASCII")
    }

    #[test]
    fn a_replace_is_signed_as_botocore_signs_it() {
        let body = r#"{"id":"aws-business","vendor":"Amazon Web Services"}"#;
        let mut r = request(
            Method::PUT,
            &format!("https://{HOST}/prod/plans/aws-business"),
            body,
            &[("content-type", "application/json"), ("if-match", "\"3\"")],
        );
        let creds = Credentials::new(KEY, SECRET, None, None, "test");
        sign_at(&mut r, &creds, "eu-west-1", at_ten()).expect("signed");
        assert_eq!(header(&r, "x-amz-date"), "20261202T100000Z");
        assert!(r.headers().get("x-amz-security-token").is_none());
        assert_eq!(header(&r, "authorization"), EXPECTED_PUT);
    }

    #[test]
    fn a_list_page_with_a_session_token_is_signed_as_botocore_signs_it() {
        // The cursor percent-encoded as the client writes it (SigV4's own encoding).
        let mut r = request(
            Method::GET,
            &format!("https://{HOST}/prod/plans?limit=100&cursor=eyJpZCI6ImEifQ%3D%3D%2B%2F"),
            "",
            &[],
        );
        let creds = Credentials::new(KEY, SECRET, Some(TOKEN.into()), None, "test");
        sign_at(&mut r, &creds, "eu-west-1", at_ten()).expect("signed");
        assert_eq!(header(&r, "x-amz-security-token"), TOKEN);
        assert_eq!(header(&r, "authorization"), EXPECTED_GET);
    }

    #[test]
    fn the_region_is_read_from_an_execute_api_host_only() {
        assert_eq!(region_of_host(HOST).as_deref(), Some("eu-west-1"));
        assert_eq!(
            region_of_host("x1.execute-api.cn-north-1.amazonaws.com.cn").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(region_of_host("plans.example.com"), None);
        assert_eq!(region_of_host("x1.execute-api.eu-west-1.example.com"), None);
        assert_eq!(region_of_host("127.0.0.1"), None);
    }

    #[test]
    fn a_signer_shows_no_credentials() {
        let creds = Credentials::new(KEY, SECRET, Some(TOKEN.into()), None, "test");
        let signer = Signer {
            credentials: SharedCredentialsProvider::new(creds),
            region: "eu-west-1".into(),
        };
        let shown = format!("{signer:?}");
        assert!(
            !shown.contains(SECRET) && !shown.contains(TOKEN) && !shown.contains(KEY),
            "{shown}"
        );
        assert!(shown.contains("eu-west-1"), "{shown}");
    }

    const EXPECTED_PUT: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/eu-west-1/execute-api/aws4_request, \
        SignedHeaders=accept;content-type;host;if-match;x-amz-date, \
        Signature=cf57c17ae9997365fe2721d1f1ae95c19cb10975a646b8f1cf7f11bbf03017c0";
    const EXPECTED_GET: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/eu-west-1/execute-api/aws4_request, \
        SignedHeaders=accept;host;x-amz-date;x-amz-security-token, \
        Signature=26bb19cf9f3e1e748c70a16e16be25891ea3d9cb0c8db035bf4c3c2714b8afba";
}
