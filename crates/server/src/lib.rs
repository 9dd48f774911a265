//! The jiazheng web server: server-rendered pages (zh-CN and en) and the JSON API under
//! `/api/v1`, both over one `Store`.

#[macro_use]
extern crate rust_i18n;
i18n!("locales", fallback = "zh-CN");

pub mod access;
pub mod api;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod claims;
pub mod community;
pub mod community_ops;
pub mod contracts;
pub mod error;
pub mod evaluation;
pub mod files;
pub mod i18n;
pub mod limits;
pub mod market;
pub mod oversight;
pub mod pages;
pub mod payments;
pub mod pdf;
pub mod photo;
pub mod plan_tracker;
pub mod reads;
pub mod report;
pub mod subsidies;
pub mod surveys;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use jiazheng_store::Store;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::AppError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub limits: Arc<limits::Limits>,
    /// Spreadsheet imports run one at a time: each may hold a large sheet in memory.
    pub imports: Arc<tokio::sync::Semaphore>,
    pub config: Arc<Config>,
    pub reports: Arc<pages::import::ReportFiles>,
    pub photos: Arc<photo::Photos>,
    /// Photos are decoded one at a time: each may take a second and hundreds of megabytes.
    pub photo_work: Arc<tokio::sync::Semaphore>,
    pub home_stats: Arc<cache::Ttl<pages::public::HomeStats>>,
    /// The city's districts, current as of the last commit (a kept page that shows them must not
    /// outlive a rename by a time-to-live of their own).
    pub districts: Arc<cache::Current<Vec<jiazheng_store::registry::divisions::Division>>>,
    pub streets: Arc<cache::Ttl<Vec<StreetGroup>>>,
    /// Service-point coverage of the whole city, recomputed after writes (see `community`).
    pub coverage: Arc<cache::Ttl<jiazheng_store::community::coverage::Coverage>>,
    /// Coverage maps as SVG, per snapshot, area and language.
    pub coverage_maps: Arc<cache::Keyed<String>>,
    /// Today's status per certificate number, for the door check, current as of the last commit.
    pub door: Arc<cache::Current<jiazheng_store::credit::certificates::LiveStatus>>,
    /// Hot public reads as they went out (door pages, agency pages, searches), current as of
    /// the last commit; see `reads`.
    pub reads: Arc<cache::Current<cache::Body>>,
    /// Available workers per parsed market search, current as of the last commit.
    pub market: Arc<cache::Current<jiazheng_store::market::search::Found>>,
    /// Tokens whose signature checked out: a signature over the same bytes stays valid.
    pub verified: Arc<cache::Keyed<jiazheng_core::credit::token::Claims>>,
    /// The public keys, re-read every minute (a new key is rare).
    pub keys: Arc<cache::Current<Vec<jiazheng_store::credit::keys::PublicKey>>>,
    /// Where sign-in codes are sent.
    pub texts: Arc<dyn jiazheng_store::workforce::jobs::Delivery>,
    pub payments: payments::Payments,
}

impl AppState {
    /// Today's status of a certificate, from the door cache when fresh.
    pub async fn live_status(
        &self,
        number: &str,
    ) -> Result<Arc<jiazheng_store::credit::certificates::LiveStatus>, AppError> {
        let today = api::workers::today();
        let key = format!("{number}|{today}");
        reads::current_in(
            &self.door,
            &self.store,
            key,
            async { Ok(self.store.live_status(number, today).await?) },
            |_| true,
        )
        .await
    }

    /// The public keys, cached for a minute.
    pub async fn public_keys(&self) -> Result<Arc<Vec<jiazheng_store::credit::keys::PublicKey>>, AppError> {
        reads::current_in(&self.keys, &self.store, "keys".into(), async { Ok(self.store.public_keys().await?) }, |_| {
            true
        })
        .await
    }

    /// The city's districts.
    pub async fn districts(&self) -> Result<Arc<Vec<jiazheng_store::registry::divisions::Division>>, AppError> {
        let read = async { Ok(self.store.districts().await?) };
        reads::current_in(&self.districts, &self.store, "districts".into(), read, |_| true).await
    }

    /// The city's streets under their districts, for a picker; re-read every five minutes.
    pub async fn street_groups(&self) -> Result<Arc<Vec<StreetGroup>>, AppError> {
        let districts = self.districts().await?;
        Ok(self
            .streets
            .get_or_try(|| async {
                let streets = self.store.streets().await?;
                Ok::<_, jiazheng_store::StoreError>(
                    districts
                        .iter()
                        .map(|d| StreetGroup {
                            district: d.name.clone(),
                            streets: streets
                                .iter()
                                .filter(|s| s.code.get(..6) == d.code.get(..6))
                                .filter_map(|s| Some((s.code.get(..9)?.to_string(), s.name.clone())))
                                .collect(),
                        })
                        .collect(),
                )
            })
            .await?)
    }
}

/// A district's name and its streets as (9-digit code, name).
#[derive(Debug, Clone)]
pub struct StreetGroup {
    pub district: String,
    pub streets: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Mark cookies Secure: set when the platform is served over TLS (directly or by a proxy).
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client; nobody else's is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Where import error reports are kept between the upload and their download (the data
    /// directory's `import-reports`); without it, a directory of this server's own that is
    /// removed when the server is dropped.
    pub import_reports: Option<std::path::PathBuf>,
    /// Where workers' photos are kept (the data directory's `photos`). Servers sharing one
    /// PostgreSQL database must share this directory too. Without it, a directory of this
    /// server's own, removed when the server is dropped.
    pub photos: Option<std::path::PathBuf>,
    /// Where text messages (sign-in codes) go; without one, the built-in `LogDelivery` writes
    /// them to the server log.
    pub texts: Option<TextChannel>,
    /// A price that rose more than this many percent within twelve months is listed for the
    /// regulator (`None`: 10).
    pub price_alert_percent: Option<i64>,
    /// Where the payment provider sends its notifications (`…/api/v1/payments/notify`); without
    /// it, this server's own bound address.
    pub payments_notify_url: Option<String>,
    /// MiB of memory for hot reads (`None`: 128, every agency's page and price list of a
    /// 5,000-agency city, about 8 KB each, with room for the searches; 0 turns it off, to
    /// measure the computed path).
    pub read_cache_mib: Option<u32>,
}

/// A text-message channel, as the configuration holds it.
#[derive(Clone)]
pub struct TextChannel(pub Arc<dyn jiazheng_store::workforce::jobs::Delivery>);

impl std::fmt::Debug for TextChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TextChannel({})", self.0.channel())
    }
}

impl Config {
    pub fn price_alert_percent(&self) -> i64 {
        self.price_alert_percent.unwrap_or(10)
    }

    pub fn read_cache_bytes(&self) -> usize {
        (self.read_cache_mib.unwrap_or(128) as usize) << 20
    }
}

/// The largest body any route takes unless it says otherwise: forms and JSON are small.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The largest upload (a spreadsheet): a register of 200,000 workers is about 12 MB.
pub const UPLOAD_LIMIT: usize = 20 * 1024 * 1024;

/// All routes: pages, API, docs, health and static files.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::router())
        .nest("/api/v1", api::router())
        .merge(api::docs())
        .route("/healthz", axum::routing::get(healthz))
        .route("/static/{file}", axum::routing::get(pages::assets::serve))
        .fallback(pages::not_found)
        // A bug in one handler answers 500 (as a page to a browser) and is logged; the
        // connection and the other requests carry on.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn_with_state(state.clone(), access::gate))
        .layer(axum::middleware::from_fn_with_state(state.clone(), error::render_html_errors))
        // Small by default; the upload routes raise it for themselves (`UPLOAD_LIMIT`).
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(axum::middleware::map_response_with_state(state.clone(), strict_transport))
        .layer(axum::middleware::from_fn(auth::no_store_when_signed_in))
        .with_state(state)
}

fn panicked(detail: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let what = detail
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| detail.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    axum::response::IntoResponse::into_response(AppError::Internal(format!("handler panicked: {what}")))
}

/// Behind TLS (the same setting that marks cookies Secure), browsers are told to use HTTPS only.
async fn strict_transport(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    if state.config.secure_cookies {
        response
            .headers_mut()
            .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    response
}

async fn healthz() -> &'static str {
    "ok"
}

/// A bound, ready server; tests build it on port 0 and read the port back.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    pub async fn build(store: Store, bind: &str, config: Config) -> std::io::Result<Self> {
        let listener = TcpListener::bind(bind).await?;
        let city = store.city_profile().await.map_err(|e| std::io::Error::other(e.to_string()))?;
        i18n::set_city(city);
        let reports = match &config.import_reports {
            Some(dir) => pages::import::ReportFiles::new(dir.clone()),
            None => pages::import::ReportFiles::temporary(),
        };
        let photos = match &config.photos {
            Some(dir) => files::Folder::at(dir.clone()),
            None => files::Folder::temporary("photos"),
        };
        let texts = match &config.texts {
            Some(channel) => channel.0.clone(),
            None => Arc::new(jiazheng_store::workforce::jobs::LogDelivery::default()),
        };
        let keys = Arc::new(payments::wire::NotifyKeys::from_crypto(store.crypto()));
        let notify_url = config.payments_notify_url.clone().unwrap_or_else(|| {
            let mut address = listener.local_addr().expect("a bound listener has an address");
            if address.ip().is_unspecified() {
                address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{address}/api/v1/payments/notify")
        });
        let payments = payments::Payments {
            provider: Arc::new(payments::sandbox::SandboxProvider::new(store.clone(), keys.clone(), notify_url)),
            keys,
            wake: Arc::new(tokio::sync::Notify::new()),
        };
        payments::spawn_background(store.clone(), payments.clone());
        let read_budget = config.read_cache_bytes();
        let state = AppState {
            payments,
            texts,
            photos: Arc::new(photo::Photos::new(photos)),
            photo_work: Arc::new(tokio::sync::Semaphore::new(1)),
            store,
            limits: Arc::new(limits::Limits::default()),
            imports: Arc::new(tokio::sync::Semaphore::new(1)),
            config: Arc::new(config),
            reports: Arc::new(reports),
            home_stats: Arc::new(cache::Ttl::new(std::time::Duration::from_secs(30))),
            districts: Arc::new(cache::Current::new(1 << 20)),
            streets: Arc::new(cache::Ttl::new(std::time::Duration::from_secs(300))),
            coverage: Arc::new(cache::Ttl::new(std::time::Duration::from_secs(30))),
            coverage_maps: Arc::new(cache::Keyed::new(std::time::Duration::from_secs(60), 200)),
            // The read budget shared out: half for whole responses, a quarter each for the door's
            // statuses and the market's searches.
            door: Arc::new(cache::Current::new(read_budget / 4)),
            reads: Arc::new(cache::Current::new(read_budget / 2)),
            market: Arc::new(cache::Current::new(read_budget / 4)),
            keys: Arc::new(cache::Current::new(1 << 20)),
            verified: Arc::new(cache::Keyed::new(std::time::Duration::from_secs(60), 200_000)),
        };
        Ok(Self { listener, router: router(state) })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn run(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>()).await
    }

    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
    }
}
