{{/* Labels common to every object of the application. */}}
{{- define "remla.labels" -}}
{{ .Values.labels.app }}: {{ .Values.app | quote }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* The pods of one color: what the preview Service selects. */}}
{{- define "remla.colorSelector" -}}
{{ .Values.labels.app }}: {{ .Values.app | quote }}
{{ .Values.labels.color }}: {{ .Values.color | quote }}
{{- end }}

{{- define "remla.tag" -}}
{{ default .Values.version .Values.image.tag }}
{{- end }}

{{- define "remla.checkColor" -}}
{{- if not (has .Values.color (list "blue" "green")) }}
{{- fail (printf "color must be blue or green, got %q" .Values.color) }}
{{- end }}
{{- end }}

{{/* Names of the objects the shared release keeps for both colors. */}}
{{- define "remla.pgName" -}}
{{ .Values.shared.serviceName }}-postgresql
{{- end }}

{{- define "remla.keySecret" -}}
{{ default (printf "%s-feedback-key" .Values.shared.serviceName) .Values.feedback.signingKey.existingSecret }}
{{- end }}

{{/* Labels of the PostgreSQL objects: the app label names another app, so no
     selector of the colors (Services, ServiceMonitor) ever picks them. */}}
{{- define "remla.pgLabels" -}}
{{ .Values.labels.app }}: {{ printf "%s-postgresql" .Values.app | quote }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: postgresql
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "remla.pgSelector" -}}
{{ .Values.labels.app }}: {{ printf "%s-postgresql" .Values.app | quote }}
app.kubernetes.io/component: postgresql
{{- end }}

{{/* Both colors need a shared feedback store. */}}
{{- define "remla.checkFeedback" -}}
{{- if and (not .Values.postgresql.enabled) (not .Values.feedback.existingSecret) }}
{{- fail "feedback needs a store both colors share: keep postgresql.enabled=true, or set feedback.existingSecret to a Secret holding the DSN of your PostgreSQL" }}
{{- end }}
{{- if and .Values.postgresql.enabled .Values.feedback.existingSecret }}
{{- fail "feedback.existingSecret and postgresql.enabled both name a store: set postgresql.enabled=false to use your own PostgreSQL" }}
{{- end }}
{{- end }}

{{/* The Service links kubelet puts in every container's environment name
     the PostgreSQL Service's ClusterIP as <NAME>_SERVICE_HOST. */}}
{{- define "remla.pgServiceHostVar" -}}
{{ include "remla.pgName" . | upper | replace "-" "_" | replace "." "_" }}_SERVICE_HOST
{{- end }}

{{/* A value generated once and kept: the existing Secret's, else random. */}}
{{- define "remla.keep" -}}
{{- $s := lookup "v1" "Secret" .ctx.Release.Namespace .name }}
{{- if and $s (hasKey $s.data .key) }}
{{- index $s.data .key }}
{{- else }}
{{- randAlphaNum .length | b64enc }}
{{- end }}
{{- end }}
