package app

import (
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/remla/tagger/feedback"
	"github.com/remla/tagger/web"
)

//go:embed openapi.json
var openAPIDoc []byte

// colorPattern is what a color may look like: it becomes a label value and
// is shown on the page.
var colorPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// CheckColor says why c cannot name a deployment color, or returns nil.
func CheckColor(c string) error {
	if !colorPattern.MatchString(c) {
		return fmt.Errorf("color %q: use a short lower-case name such as blue or green", c)
	}
	return nil
}

// Config is what a Server is built from.
type Config struct {
	// Predictor is the loaded model. Required.
	Predictor Predictor
	// Store keeps feedback. Required.
	Store feedback.Store
	// Color is the deployment slot this server runs as (blue or green); it
	// is shown on the page and in model_info.
	Color string
	// CodeVersion is the build's version (model.CodeVersion), for /version.
	CodeVersion string
	// Release is the deployment's version label (the chart sets
	// REMLA_VERSION), for /version; empty outside a cluster.
	Release string
	// Logger receives the server's logs; slog.Default() when nil.
	Logger *slog.Logger
	// MaxBodyBytes caps a request body; 64 KiB when 0.
	MaxBodyBytes int64
	// SigningKeys sign and check prediction ids (predictionid.go): the
	// first signs, every one verifies, so a new key can be rolled out
	// ahead of its use. Every replica of every color must have the same
	// keys. Required; each at least MinSigningKeyLen bytes.
	SigningKeys [][]byte
	// Retention is how long after a prediction its answer is taken;
	// DefaultRetention when 0.
	Retention time.Duration
	// RateLimit caps each client's predictions and answers; the zero value
	// limits nothing (remla-app applies DefaultRateLimit).
	RateLimit RateLimit
	// TrustedProxies are the reverse proxies (IP addresses or CIDR ranges)
	// whose X-Forwarded-For names the client; none when empty, so a client
	// cannot pick the address it is rate-limited as.
	TrustedProxies []string
	// TrustedOrigins are other origins (scheme://host[:port]) whose pages
	// may post the forms, e.g. when a proxy rewrites the Host header.
	TrustedOrigins []string
}

// DefaultRetention is how long a prediction takes its answer unless
// configured: long enough for any person who left a tab open, short enough
// that an id found in an old log or link cannot feed today's metrics.
const DefaultRetention = 30 * 24 * time.Hour

// Server is the tagger's HTTP server. Build it with New and serve Handler.
type Server struct {
	cfg         Config
	version     string
	known       map[string]struct{}
	log         *slog.Logger
	metrics     *metrics
	ids         *predictionIDs
	health      *storeHealth
	crossOrigin *http.CrossOriginProtection
	limits      struct{ predict, feedback *limiter }
	pages       *template.Template
	engine      *gin.Engine
}

// New checks cfg and builds the server and its routes.
func New(cfg Config) (*Server, error) {
	if cfg.Predictor == nil {
		return nil, errors.New("app: no model given; load one with model.Load")
	}
	if cfg.Store == nil {
		return nil, errors.New("app: no feedback store given; open one with feedback.OpenSQLite")
	}
	if cfg.Color == "" {
		cfg.Color = "blue"
	}
	if err := CheckColor(cfg.Color); err != nil {
		return nil, err
	}
	if cfg.CodeVersion == "" {
		cfg.CodeVersion = "dev"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	pages, err := web.Templates()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		version: cfg.Predictor.Version(),
		known:   map[string]struct{}{},
		log:     cfg.Logger,
		health:  newStoreHealth(cfg.Store),
		pages:   pages,
	}
	if s.ids, err = newPredictionIDs(cfg.SigningKeys, cfg.Retention, s.version, cfg.Color); err != nil {
		return nil, err
	}
	if s.crossOrigin, err = newCrossOrigin(cfg.TrustedOrigins); err != nil {
		return nil, err
	}
	s.limits.predict = newLimiter("predictions", cfg.RateLimit.Predict)
	s.limits.feedback = newLimiter("answers", cfg.RateLimit.Feedback)
	for _, t := range cfg.Predictor.Tags() {
		s.known[t] = struct{}{}
	}
	s.metrics = newMetrics(s.version, cfg.Color, s.health)
	if err := s.routes(); err != nil {
		return nil, err
	}
	s.health.status() // the first check, in the background
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Routes lists the registered routes as "METHOD /path" (gin's syntax for
// parameters), for tests and the OpenAPI check.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func (s *Server) routes() error {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	// gin trusts every proxy unless told; a client could then name any
	// address in X-Forwarded-For and dodge its rate limit.
	if err := e.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		return fmt.Errorf("trusted proxies: %w; give IP addresses or CIDR ranges", err)
	}
	e.Use(s.metrics.countRequests, s.logRequests, s.recover, securityHeaders)
	// Cheap refusals come before the body is read: the media type (JSON
	// routes), the origin, then the client's rate (crosssite.go,
	// ratelimit.go).
	limit := s.limitBody
	predictRate, answerRate := s.rateLimit(s.limits.predict), s.rateLimit(s.limits.feedback)

	e.GET("/", s.page)
	e.POST("/", s.sameOrigin, predictRate, limit, s.pagePredict)
	e.POST("/feedback", s.sameOrigin, answerRate, limit, s.pageFeedback)
	e.GET("/static/*path", s.static())

	e.POST("/predict", requireJSON, s.sameOrigin, predictRate, limit, s.seedPredict)
	api := e.Group("/api")
	api.GET("/openapi.json", s.openAPI)
	api.POST("/v1/predict", requireJSON, s.sameOrigin, predictRate, limit, s.apiPredict)
	api.POST("/v1/feedback", requireJSON, s.sameOrigin, answerRate, limit, s.apiFeedback)
	api.GET("/v1/tags", s.apiTags)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/version", s.versionInfo)
	e.GET("/metrics", gin.WrapH(s.metrics.handler()))

	e.NoRoute(func(c *gin.Context) {
		if isAPI(c.Request.URL.Path) {
			apiNotFound(c)
			return
		}
		s.notFoundPage(c)
	})
	e.NoMethod(func(c *gin.Context) {
		if isAPI(c.Request.URL.Path) || c.Request.URL.Path == "/predict" {
			apiMethodNotAllowed(c)
			return
		}
		c.String(http.StatusMethodNotAllowed, "method %s is not allowed here\n", c.Request.Method)
	})
	s.engine = e
	return nil
}

func isAPI(path string) bool { return path == "/api" || strings.HasPrefix(path, "/api/") }

func (s *Server) limitBody(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes)
	c.Next()
}

func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelWarn
	}
	if !s.log.Enabled(c.Request.Context(), level) {
		return
	}
	s.log.Log(c.Request.Context(), level, "request",
		"method", c.Request.Method, "path", c.Request.URL.Path, "status", status,
		"duration", time.Since(start), "remote", c.ClientIP())
}

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panicked", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", v)
			abortJSON(c, newError(http.StatusInternalServerError, "", "internal error; the server logged it"))
		}
	}()
	c.Next()
}

// The security headers' values, built once: every response shares them
// instead of allocating three slices. Each has length and capacity 1, so a
// handler that adds a value gets a new slice and never writes into these.
var (
	headerNoSniff = []string{"nosniff"}
	// same-origin, not no-referrer: with no-referrer a browser sends
	// "Origin: null" on the page's own form posts (crosssite.go).
	headerReferrerPolicy = []string{"same-origin"}
	headerCSP            = []string{"default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"}
)

func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h["X-Content-Type-Options"] = headerNoSniff
	h["Referrer-Policy"] = headerReferrerPolicy
	h["Content-Security-Policy"] = headerCSP
	c.Next()
}

func (s *Server) static() gin.HandlerFunc {
	files := http.StripPrefix("/static", http.FileServerFS(web.Static()))
	return func(c *gin.Context) {
		if strings.HasSuffix(c.Request.URL.Path, "/") { // no directory listings
			s.notFoundPage(c)
			return
		}
		c.Header("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(c.Writer, c.Request)
	}
}
