{{/* The chart name, cut to 63 characters. */}}
{{- define "fdb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The full name of the release's objects. */}}
{{- define "fdb.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "fdb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fdb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "fdb.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "fdb.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "fdb.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "fdb.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Where the Workloads, the Lease and the retry intents live (FOREMAN_NAMESPACE). */}}
{{- define "fdb.foremanNamespace" -}}
{{- default .Release.Namespace .Values.config.foremanNamespace -}}
{{- end -}}

{{/* The Secret that holds DISPATCH_AGENT_TOKEN: existing, or <fullname>-dispatch. */}}
{{- define "fdb.tokenSecretName" -}}
{{- default (printf "%s-dispatch" (include "fdb.fullname" .)) .Values.dispatch.existingSecret -}}
{{- end -}}

{{/* True when the chart makes the dispatch Secret. */}}
{{- define "fdb.createSecret" -}}
{{- if or (and .Values.dispatch.token (not .Values.dispatch.existingSecret)) (and .Values.github.token (not .Values.github.existingSecret)) -}}
true
{{- end -}}
{{- end -}}

{{/* A map or list value as compact JSON; empty maps and lists as "" (unset). */}}
{{- define "fdb.json" -}}
{{- if . -}}{{- toJson . -}}{{- end -}}
{{- end -}}

{{/* Fails on combinations the schema cannot express. */}}
{{- define "fdb.validate" -}}
{{- if and .Values.dispatch.token .Values.dispatch.existingSecret -}}
{{- fail "dispatch.token and dispatch.existingSecret are both set: give the token one way" -}}
{{- end -}}
{{- if and .Values.github.token .Values.github.existingSecret -}}
{{- fail "github.token and github.existingSecret are both set: give the token one way" -}}
{{- end -}}
{{- $le := .Values.leaderElection -}}
{{- if le (int $le.leaseDurationSeconds) (int $le.renewDeadlineSeconds) -}}
{{- fail "leaderElection.leaseDurationSeconds must be greater than leaderElection.renewDeadlineSeconds" -}}
{{- end -}}
{{- if le (int $le.renewDeadlineSeconds) (int $le.retryPeriodSeconds) -}}
{{- fail "leaderElection.renewDeadlineSeconds must be greater than leaderElection.retryPeriodSeconds" -}}
{{- end -}}
{{- if and (not $le.enabled) (gt (int .Values.replicaCount) 1) -}}
{{- fail "leaderElection.enabled=false needs replicaCount 1: two replicas without a leader would both claim and retry" -}}
{{- end -}}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $le.renewDeadlineSeconds) -}}
{{- fail "terminationGracePeriodSeconds must exceed leaderElection.renewDeadlineSeconds so the leader can release its lease" -}}
{{- end -}}
{{- if eq (int .Values.metrics.port) (int .Values.health.port) -}}
{{- fail "metrics.port and health.port must differ" -}}
{{- end -}}
{{- end -}}
