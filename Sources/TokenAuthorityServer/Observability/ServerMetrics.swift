import Metrics
import Prometheus
import TokenAuthority
import TokenStorage

/// The Prometheus backend of swift-metrics, rendered by `GET /metrics`.
///
/// swift-metrics has one backend per process, so this is bootstrapped once, by
/// `serve` before the database is opened (a busy retry during migration is
/// counted too) and by `buildApplication` for in-process tests.
public enum ServerMetrics {
    public static let registry = PrometheusCollectorRegistry()

    /// Installs the backend; later calls do nothing.
    public static func bootstrap() {
        _ = bootstrapped
    }

    private static let bootstrapped: Void = {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Token requests take milliseconds; the password grant's KDF most of a second.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        factory.nameAndLabelSanitizer = { name, labels in
            (renamed[name] ?? sanitized(name), labels.map { (sanitized($0.0), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        // Every series from the first scrape on, at 0 until its first event.
        TokenMetrics.register()
        TokenStorage.registerMetrics()
        TokenCleanupService.registerMetrics()
    }()

    /// The names of Hummingbird's `MetricsMiddleware`, which `RequestMetricsMiddleware` keeps, in Prometheus' conventions.
    private static let renamed = [
        "hb.requests": "http_server_requests_total",
        "hb.request.errors": "http_server_request_errors_total",
        "http.server.request.duration": "http_server_request_duration_seconds",
        "http.server.active_requests": "http_server_active_requests",
    ]

    /// Prometheus names allow `[a-zA-Z0-9_:]` only.
    private static func sanitized(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") ? $0 : "_" })
    }
}
