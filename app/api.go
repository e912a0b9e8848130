package app

import (
	"encoding/json"
	"net/http"
	"runtime"

	"github.com/gin-gonic/gin"

	"github.com/remla/tagger/model"
)

type predictRequest struct {
	Title *string `json:"title"`
}

type predictResponse struct {
	PredictionID string           `json:"prediction_id"`
	Title        string           `json:"title"`
	Tags         []model.TagScore `json:"tags"`
	ModelVersion string           `json:"model_version"`
	Color        string           `json:"color"`
}

// feedbackRequest keeps the tag lists raw: they are counted against the
// cap before any string of them is decoded (tagList).
type feedbackRequest struct {
	PredictionID *string         `json:"prediction_id"`
	Happy        *bool           `json:"happy"`
	CorrectTags  json.RawMessage `json:"correct_tags"`
	WrongTags    json.RawMessage `json:"wrong_tags"`
	MissingTags  json.RawMessage `json:"missing_tags"`
}

// seedResponse is the shape of the original Flask app's POST /predict.
type seedResponse struct {
	Result       []string `json:"result"`
	Classifier   string   `json:"classifier"`
	Title        string   `json:"title"`
	PredictionID string   `json:"prediction_id"`
}

func abortJSON(c *gin.Context, e *apiError) {
	setRetryAfter(c.Writer.Header(), e.retryAfter)
	c.AbortWithStatusJSON(e.Status, e)
}

// readTitle decodes {"title": "..."} and checks the title.
func (s *Server) readTitle(c *gin.Context) (string, bool) {
	buf := getBuf()
	defer putBuf(buf)
	body, e := readBody(c.Request, s.cfg.MaxBodyBytes, buf)
	if e != nil {
		abortJSON(c, e)
		return "", false
	}
	title, ok := fastTitle(body)
	if !ok {
		var req predictRequest
		if e := unmarshalBody(body, &req); e != nil {
			abortJSON(c, e)
			return "", false
		}
		if req.Title == nil {
			abortJSON(c, badRequest("title", `field "title" is required: send {"title": "your question title"}`))
			return "", false
		}
		title = *req.Title
	}
	title, e = checkTitle(title)
	if e != nil {
		abortJSON(c, e)
		return "", false
	}
	return title, true
}

// jsonContentType is the Content-Type gin's c.JSON sends, shared by every
// answer written by hand (length and capacity 1: an append copies it).
var jsonContentType = []string{"application/json; charset=utf-8"}

func (s *Server) apiPredict(c *gin.Context) {
	title, ok := s.readTitle(c)
	if !ok {
		return
	}
	p := s.predict(title)
	resp := predictResponse{PredictionID: p.ID, Title: p.Title, Tags: p.Tags, ModelVersion: p.ModelVersion, Color: s.cfg.Color}
	buf := getAnswerBuf()
	b, ok := appendPredictResponse((*buf)[:0], &resp)
	if !ok { // a score encoding/json refuses: let c.JSON report it as before
		c.JSON(http.StatusOK, resp)
		return
	}
	// What c.JSON does, without its render value, header slices and
	// reflection; net/http adds Content-Length as it did for c.JSON.
	c.Writer.Header()["Content-Type"] = jsonContentType
	c.Status(http.StatusOK)
	c.Writer.Write(b) // a failed write is the client gone; nothing to answer
	putAnswerBuf(buf, b)
}

func (s *Server) seedPredict(c *gin.Context) {
	title, ok := s.readTitle(c)
	if !ok {
		return
	}
	p := s.predict(title)
	c.JSON(http.StatusOK, seedResponse{Result: p.TagNames(), Classifier: "tagger " + s.version, Title: p.Title, PredictionID: p.ID})
}

func (s *Server) apiFeedback(c *gin.Context) {
	var req feedbackRequest
	if e := decodeJSON(c.Request, s.cfg.MaxBodyBytes, &req); e != nil {
		abortJSON(c, e)
		return
	}
	if req.PredictionID == nil {
		abortJSON(c, badRequest("prediction_id", `field "prediction_id" is required; use the one POST /api/v1/predict returned`))
		return
	}
	if req.Happy == nil {
		abortJSON(c, badRequest("happy", `field "happy" is required: true if the tags are right, false if not`))
		return
	}
	in := feedbackInput{PredictionID: *req.PredictionID, Happy: *req.Happy}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *[]string
	}{{"correct_tags", req.CorrectTags, &in.Correct}, {"wrong_tags", req.WrongTags, &in.Wrong}, {"missing_tags", req.MissingTags, &in.Missing}} {
		var e *apiError
		if *f.dst, e = s.tagList(f.name, f.raw); e != nil {
			abortJSON(c, e)
			return
		}
	}
	p, e := s.recordFeedback(c.Request.Context(), in)
	if e != nil {
		abortJSON(c, e)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"prediction_id": p.ID, "status": "recorded", "model_version": p.ModelVersion, "color": p.Color})
}

func (s *Server) apiTags(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"tags": s.cfg.Predictor.Tags()})
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz says whether this server should get traffic: it has a model
// that knows tags. The feedback store's state is reported but does not
// make the server unready: every replica of both colors shares the one
// store, so gating on it would turn a database outage into a full outage of
// predictions too. docs/operations.md explains the choice.
func (s *Server) readyz(c *gin.Context) {
	if len(s.cfg.Predictor.Tags()) == 0 {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "error": "the model knows no tags"})
		return
	}
	store := "ok"
	if err := s.health.status(); err != nil {
		store = "unavailable: " + err.Error()
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "model_version": s.version, "feedback_store": store})
}

func (s *Server) versionInfo(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{
		"model_version": s.version,
		"code_version":  s.cfg.CodeVersion,
		"color":         s.cfg.Color,
		"release":       s.cfg.Release,
		"go_version":    runtime.Version(),
	})
}

func (s *Server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", openAPIDoc)
}

func apiNotFound(c *gin.Context) {
	abortJSON(c, newError(http.StatusNotFound, "", "no route %s %s; see /api/openapi.json for the API", c.Request.Method, c.Request.URL.Path))
}

func apiMethodNotAllowed(c *gin.Context) {
	abortJSON(c, newError(http.StatusMethodNotAllowed, "", "%s is not allowed on %s; see /api/openapi.json", c.Request.Method, c.Request.URL.Path))
}
