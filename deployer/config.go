package deployer

import (
	"fmt"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"sigs.k8s.io/yaml"

	"github.com/remla/tagger/deployer/analysis"
	"github.com/remla/tagger/deployer/notify"
)

// Config says how the application is laid out in the cluster: release and
// Service names, labels, chart and ports. It is read from remla.yaml so the
// deployer serves another application without code changes; every field has
// a REMLA default (see DefaultConfig and docs/operations.md).
type Config struct {
	// App is the value of the app label on every object of the application.
	App string `json:"app"`
	// Namespace is used when neither -n nor the kubeconfig context names one.
	Namespace string `json:"namespace"`
	// Chart is a chart directory or .tgz; empty means the chart built into
	// remlactl (charts/remla-app).
	Chart string `json:"chart"`
	// Releases names the Helm release of each color.
	Releases map[Color]string `json:"releases"`
	// SharedRelease is the Helm release holding the active Service and Ingress.
	SharedRelease string `json:"sharedRelease"`
	// ActiveService is the Service whose selector names the live color and
	// whose annotations hold the deployer's state.
	ActiveService string `json:"activeService"`
	// Labels name the pod labels the chart sets.
	Labels Labels `json:"labels"`
	// Image is the container image repository; the version is its tag.
	Image string `json:"image"`
	// ContainerPort is the port the application listens on.
	ContainerPort int `json:"containerPort"`
	// ServicePort is the port of the active and preview Services.
	ServicePort int `json:"servicePort"`
	// Replicas per color.
	Replicas int `json:"replicas"`
	// IngressHost is the host name of the Ingress ("" matches any host).
	IngressHost string `json:"ingressHost"`
	// IngressClass is the ingress class ("nginx" on minikube).
	IngressClass string `json:"ingressClass"`
	// Lease is the name of the coordination Lease taken by long operations.
	Lease string `json:"lease"`
	// HistoryLimit bounds the number of records kept in the history.
	HistoryLimit int `json:"historyLimit"`
	// BakeWindow is how long a color must stay active, with no rollback,
	// to become stable at the version and pod template it runs.
	BakeWindow metav1.Duration `json:"bakeWindow"`
	// Values are extra Helm values merged into every color release
	// (for example resources, modelPath, podLabels).
	Values map[string]any `json:"values,omitempty"`
	// Analysis holds the promotion gates (deployer/analysis, gate.go).
	Analysis *analysis.Config `json:"analysis,omitempty"`
	// Standby says how the color without traffic is kept once the active
	// color is stable (standby.go); the default keeps all its replicas.
	Standby Standby `json:"standby,omitzero"`
	// Notify posts each record (deploy, gate verdict, promotion, switch,
	// rollback, refusal) to webhooks; see deployer/notify.
	Notify notify.Config `json:"notify,omitzero"`
}

// DefaultBakeWindow is how long a color stays active before it becomes
// stable, unless remla.yaml sets bakeWindow.
const DefaultBakeWindow = 10 * time.Minute

// Labels names the labels that tell the colors apart.
type Labels struct {
	App     string `json:"app"`
	Color   string `json:"color"`
	Version string `json:"version"`
}

// DefaultConfig returns the layout of REMLA itself: releases remla-blue,
// remla-green and remla-shared, active Service remla, Lease remla-deployer.
func DefaultConfig() *Config {
	c := baseConfig()
	c.fill()
	return c
}

// baseConfig holds the defaults that do not derive from App; fill derives
// the rest (releases <app>-blue, <app>-green, <app>-shared, Service <app>,
// Lease <app>-deployer), so another application needs only app: in remla.yaml.
func baseConfig() *Config {
	return &Config{
		App:           "remla",
		Labels:        Labels{App: "app", Color: "color", Version: "version"},
		Image:         "ghcr.io/remla/tagger",
		ContainerPort: 8080,
		ServicePort:   80,
		Replicas:      2,
		IngressClass:  "nginx",
		HistoryLimit:  100,
		BakeWindow:    metav1.Duration{Duration: DefaultBakeWindow},
	}
}

// LoadConfig reads a remla.yaml file; fields it leaves out keep their
// REMLA defaults. Unknown fields are an error, so a typo does not pass
// silently.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read deployer config: %w", err)
	}
	return ParseConfig(data)
}

// ParseConfig parses the YAML of a remla.yaml file over the defaults.
func ParseConfig(data []byte) (*Config, error) {
	c := baseConfig()
	if err := yaml.UnmarshalStrict(data, c); err != nil {
		return nil, fmt.Errorf("parse deployer config (see docs/operations.md for the fields): %w", err)
	}
	c.fill()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// fill puts back defaults for fields a file set to their zero value.
func (c *Config) fill() {
	d := baseConfig()
	if c.Releases == nil {
		c.Releases = map[Color]string{}
	}
	for _, col := range Colors {
		if c.Releases[col] == "" {
			c.Releases[col] = c.App + "-" + string(col)
		}
	}
	if c.SharedRelease == "" {
		c.SharedRelease = c.App + "-shared"
	}
	if c.ActiveService == "" {
		c.ActiveService = c.App
	}
	if c.Labels.App == "" {
		c.Labels.App = d.Labels.App
	}
	if c.Labels.Color == "" {
		c.Labels.Color = d.Labels.Color
	}
	if c.Labels.Version == "" {
		c.Labels.Version = d.Labels.Version
	}
	if c.ContainerPort == 0 {
		c.ContainerPort = d.ContainerPort
	}
	if c.ServicePort == 0 {
		c.ServicePort = d.ServicePort
	}
	if c.Replicas == 0 {
		c.Replicas = d.Replicas
	}
	if c.Lease == "" {
		c.Lease = c.App + "-deployer"
	}
	if c.Image == "" {
		c.Image = d.Image
	}
	if c.HistoryLimit == 0 {
		c.HistoryLimit = d.HistoryLimit
	}
	if c.BakeWindow.Duration == 0 {
		c.BakeWindow = d.BakeWindow
	}
}

// Validate reports the first field that cannot work.
func (c *Config) Validate() error {
	var bad []string
	if c.App == "" {
		bad = append(bad, "app must not be empty")
	}
	for k := range c.Releases {
		if _, err := ParseColor(string(k)); err != nil {
			bad = append(bad, fmt.Sprintf("releases: %v", err))
		}
	}
	if c.Releases[Blue] == c.Releases[Green] {
		bad = append(bad, "releases: blue and green need different release names")
	}
	if c.Replicas < 0 {
		bad = append(bad, "replicas must be 0 or more")
	}
	if c.HistoryLimit < 1 {
		bad = append(bad, "historyLimit must be 1 or more")
	}
	if c.BakeWindow.Duration < time.Second {
		bad = append(bad, fmt.Sprintf("bakeWindow %s: must be at least 1s (for example 10m)", c.BakeWindow.Duration))
	}
	if err := c.Analysis.Validate(); err != nil {
		bad = append(bad, err.Error())
	}
	bad = append(bad, c.Standby.validate()...)
	if err := c.Notify.Validate(); err != nil {
		bad = append(bad, err.Error())
	}
	if len(bad) > 0 {
		return fmt.Errorf("deployer config: %s", strings.Join(bad, "; "))
	}
	return nil
}

// Release returns the Helm release name of a color.
func (c *Config) Release(col Color) string { return c.Releases[col] }

// PreviewService returns the name of a color's preview Service.
func (c *Config) PreviewService(col Color) string { return c.Release(col) + "-preview" }
