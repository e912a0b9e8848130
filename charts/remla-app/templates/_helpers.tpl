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
