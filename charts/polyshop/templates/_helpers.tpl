{{/*
Names and labels. Every helper is prefixed "polyshop." so a parent chart's helpers never collide.
*/}}
{{- define "polyshop.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "polyshop.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "polyshop.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "polyshop.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "polyshop.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of everything the chart makes. */}}
{{- define "polyshop.labels" -}}
helm.sh/chart: {{ include "polyshop.chart" . }}
app.kubernetes.io/name: {{ include "polyshop.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: polyshop
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "gateway"). */}}
{{- define "polyshop.selectorLabels" -}}
app.kubernetes.io/name: {{ include "polyshop.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "polyshop.componentLabels" -}}
{{ include "polyshop.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The name of one component's objects, e.g. polyshop-gateway. */}}
{{- define "polyshop.componentName" -}}
{{- printf "%s-%s" (include "polyshop.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The six services: ports, probes, and who talks to whom (the edges of DESIGN.md, which the
NetworkPolicies allow and nothing else). Wiring, not configuration: values tune replicas,
resources and extra env; these stay as the code expects.
*/}}
{{- define "polyshop.services" -}}
gateway:
  http: 8080
  # /metrics, /healthz and /readyz for Prometheus: never in the Service the Ingress/HTTPRoute routes.
  management: 8081
  probe: http
  # Live order status: reads order.events (its KafkaUser may read, nothing else).
  kafka: true
  calls: [user, product, order, recommendation]
user:
  http: 3001
  probe: http
  mongodb: true
  kafka: true
product:
  http: 3002
  grpc: 50052
  probe: http
  mongodb: true
  calls: [user]
order:
  http: 3003
  grpc: 50051
  probe: grpc
  mongodb: true
  kafka: true
  calls: [user, product]
recommendation:
  http: 3004
  probe: http
  mongodb: true
  kafka: true
  calls: [user, product]
notification:
  http: 3005
  probe: http
  mongodb: true
  kafka: true
  calls: [user]
{{- end }}

{{/* The port a caller uses for a service: gRPC where it has one the caller speaks (order, product for order), else HTTP. */}}
{{- define "polyshop.calledPort" -}}
{{- $services := include "polyshop.services" .root | fromYaml -}}
{{- $target := get $services .target -}}
{{- if and (eq .target "order") $target.grpc }}{{ $target.grpc }}
{{- else if and (eq .target "product") (eq .caller "order") }}{{ $target.grpc }}
{{- else }}{{ $target.http }}{{- end }}
{{- end }}

{{- define "polyshop.url" -}}
http://{{ include "polyshop.componentName" (dict "root" .root "component" .target) }}:{{ include "polyshop.calledPort" . }}
{{- end }}

{{/* A service's image: its own full reference if set (skaffold sets them), else <repository>/<service>:<tag>. */}}
{{- define "polyshop.image" -}}
{{- $own := (index .root.Values.services .component).image | default "" -}}
{{- if $own }}{{ $own }}{{ else -}}
{{- $tag := .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s/%s:%s" .root.Values.image.repository .component $tag }}
{{- end }}
{{- end }}

{{/* Kafka: the Strimzi cluster's name and bootstrap address, or the external brokers. */}}
{{- define "polyshop.kafkaCluster" -}}
{{- printf "%s-kafka" (include "polyshop.fullname" .) | trunc 52 | trimSuffix "-" }}
{{- end }}

{{- define "polyshop.kafkaBrokers" -}}
{{- if .Values.kafka.enabled }}
{{- printf "%s-kafka-bootstrap:%s" (include "polyshop.kafkaCluster" .) (include "polyshop.kafkaPort" .) }}
{{- else }}
{{- required "kafka.external.brokers is required when kafka.enabled is false" .Values.kafka.external.brokers }}
{{- end }}
{{- end }}

{{/*
A secret value that is generated once and kept: the value in the live Secret if there is one
(upgrades), else a new random one. (dict "root" $ "secret" name "key" key "length" n)
*/}}
{{- define "polyshop.keptSecret" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret -}}
{{- if and $existing (hasKey $existing.data .key) -}}
{{- index $existing.data .key | b64dec -}}
{{- else -}}
{{- randAlphaNum (int .length) -}}
{{- end -}}
{{- end }}

{{- define "polyshop.mongodbSecretName" -}}
{{- .Values.mongodb.auth.existingSecret | default (printf "%s-mongodb" (include "polyshop.fullname" .)) }}
{{- end }}

{{/* Pod security for the restricted Pod Security Standard. */}}
{{- define "polyshop.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "polyshop.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The hosts of the chart's MongoDB replica set. */}}
{{- define "polyshop.mongodbHosts" -}}
{{- $fullname := include "polyshop.fullname" . -}}
{{- $hosts := list -}}
{{- range $i := until (int .Values.mongodb.replicas) -}}
{{- $hosts = append $hosts (printf "%s-mongodb-%d.%s-mongodb:27017" $fullname $i $fullname) -}}
{{- end -}}
{{- join "," $hosts -}}
{{- end }}

{{/* Environment from Secrets, per service. */}}
{{- define "polyshop.secretEnv" -}}
{{- $root := .root -}}
{{- $fullname := include "polyshop.fullname" $root -}}
{{- $wiring := get (include "polyshop.services" $root | fromYaml) .component -}}
{{- if and $wiring.mongodb $root.Values.mongodb.enabled }}
- name: MONGODB_PASSWORD
  valueFrom:
    secretKeyRef: { name: {{ include "polyshop.mongodbSecretName" $root }}, key: {{ .component }}-password }
# Kubernetes expands $(MONGODB_PASSWORD) from the variable above; the password is alphanumeric.
# The service's own user, defined in and allowed only its own database.
- name: MONGODB_URL
  value: {{ printf "mongodb://polyshop-%s:$(MONGODB_PASSWORD)@%s/polyshop_%s?replicaSet=rs0&authSource=polyshop_%s" .component (include "polyshop.mongodbHosts" $root) .component .component | quote }}
{{- else if $wiring.mongodb }}
- name: MONGODB_URL
  valueFrom:
    secretKeyRef: { name: {{ $fullname }}-mongodb-urls, key: {{ .component }} }
{{- end }}
{{- if and $wiring.kafka $root.Values.kafka.enabled $root.Values.kafka.tls }}
# The cluster CA's certificates, which Strimzi's Cluster Operator writes and renews, mounted (see
# the deployment): read again for every connection, so a renewed CA is trusted without a restart.
- name: KAFKA_TLS_CA_PATH
  value: /etc/polyshop/kafka-ca
{{- end }}
{{- if and $wiring.kafka $root.Values.kafka.enabled $root.Values.kafka.authentication }}
- name: KAFKA_SASL_USERNAME
  value: {{ printf "%s-%s" $fullname .component | quote }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    # Written by the Strimzi User Operator for the service's KafkaUser.
    secretKeyRef: { name: {{ printf "%s-%s" $fullname .component }}, key: password }
{{- end }}
{{- $serviceClients := $root.Values.serviceClients.existingSecret | default (printf "%s-service-clients" $fullname) }}
{{- if eq .component "order" }}
- name: SERVICE_CLIENT_SECRET
  valueFrom:
    secretKeyRef: { name: {{ $serviceClients }}, key: order }
{{- end }}
{{- if eq .component "user" }}
- name: SERVICE_CLIENT_SECRET_ORDER
  valueFrom:
    secretKeyRef: { name: {{ $serviceClients }}, key: order }
# Kubernetes expands $(SERVICE_CLIENT_SECRET_ORDER) from the variable above.
- name: SERVICE_CLIENTS
  value: "order:$(SERVICE_CLIENT_SECRET_ORDER)"
- name: JWT_PRIVATE_KEY
  valueFrom:
    secretKeyRef: { name: {{ $root.Values.jwt.existingSecret | default (printf "%s-jwt" $fullname) }}, key: JWT_PRIVATE_KEY }
- name: ADMIN_EMAIL
  valueFrom:
    secretKeyRef: { name: {{ $root.Values.admin.existingSecret | default (printf "%s-admin" $fullname) }}, key: ADMIN_EMAIL }
- name: ADMIN_PASSWORD
  valueFrom:
    secretKeyRef: { name: {{ $root.Values.admin.existingSecret | default (printf "%s-admin" $fullname) }}, key: ADMIN_PASSWORD }
{{- end }}
{{- if eq .component "notification" }}
- name: SMTP_URL
  valueFrom:
    secretKeyRef: { name: {{ $root.Values.notification.existingSecret | default (printf "%s-notification" $fullname) }}, key: SMTP_URL, optional: true }
- name: SMS_WEBHOOK_URL
  valueFrom:
    secretKeyRef: { name: {{ $root.Values.notification.existingSecret | default (printf "%s-notification" $fullname) }}, key: SMS_WEBHOOK_URL, optional: true }
{{- end }}
{{- end }}

{{/* The services' databases, comma-separated. */}}
{{- define "polyshop.databases" -}}
{{- $names := list -}}
{{- range $name, $wiring := include "polyshop.services" . | fromYaml -}}
{{- if $wiring.mongodb }}{{ $names = append $names (printf "polyshop_%s" $name) }}{{ end -}}
{{- end -}}
{{- join "," $names -}}
{{- end }}

{{/* Every kind of pod the chart itself runs, as a JSON list. */}}
{{- define "polyshop.podComponents" -}}
{{- $components := keys (include "polyshop.services" . | fromYaml) | sortAlpha -}}
{{- $components = concat $components (list "mongodb" "mongodb-init" "mailpit" "smoke-test") -}}
{{- toJson $components -}}
{{- end }}

{{/* The port of the chart's Kafka listener: 9093 with TLS (kafka.tls), 9092 without. */}}
{{- define "polyshop.kafkaPort" -}}
{{- ternary "9093" "9092" (.Values.kafka.tls | default false) -}}
{{- end }}
