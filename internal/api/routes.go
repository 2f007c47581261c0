package api

// route is one endpoint of the API. The table below is the whole surface:
// the router, the OpenAPI test and the tenancy test all walk it.
type route struct {
	method string
	path   string
	access access
	handle handlerFunc
}

func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", public, s.healthz},
		{"GET", "/readyz", public, s.readyz},
		{"GET", "/api/v1/openapi.json", public, s.openAPI},

		{"GET", "/api/v1/account", viewer, s.getAccount},
		{"GET", "/api/v1/programs", viewer, s.listPrograms},
		{"POST", "/api/v1/programs", admin, s.createProgram},
		{"GET", "/api/v1/programs/{id}", viewer, s.getProgram},
		{"GET", "/api/v1/api-keys", admin, s.listKeys},
		{"POST", "/api/v1/api-keys", admin, s.createKey},
		{"DELETE", "/api/v1/api-keys/{id}", admin, s.revokeKey},

		{"GET", "/api/v1/contacts", viewer, s.listContacts},
		{"POST", "/api/v1/contacts", editor, s.upsertContact},
		{"GET", "/api/v1/contacts/export.csv", viewer, s.exportContacts},
		{"POST", "/api/v1/contacts/import", editor, s.importContacts},
		{"GET", "/api/v1/contacts/{id}", viewer, s.getContact},
		{"PATCH", "/api/v1/contacts/{id}", editor, s.patchContact},
		{"DELETE", "/api/v1/contacts/{id}", editor, s.deleteContact},
		{"PUT", "/api/v1/contacts/{id}/sms-preference", editor, s.setPreference},
		{"GET", "/api/v1/contacts/{id}/consents", viewer, s.listConsents},

		{"POST", "/api/v1/messages", editor, s.sendMessage},
		{"GET", "/api/v1/messages", viewer, s.listMessages},
		{"GET", "/api/v1/messages/{id}", viewer, s.getMessage},
		{"GET", "/api/v1/outcomes", viewer, s.listOutcomes},
		{"GET", "/api/v1/usage", viewer, s.getUsage},
		{"GET", "/api/v1/metrics/sms", viewer, s.smsMetrics},
		{"GET", "/api/v1/limit-queue", admin, s.listLimitQueue},
		{"POST", "/api/v1/limit-queue/send", admin, s.releaseLimitQueue},
		{"POST", "/api/v1/limit-queue/cancel", admin, s.cancelLimitQueue},

		{"GET", "/api/v1/templates", viewer, s.listTemplates},
		{"POST", "/api/v1/templates", editor, s.createTemplate},
		{"POST", "/api/v1/templates/preview", editor, s.previewTemplate},
		{"GET", "/api/v1/templates/{id}", viewer, s.getTemplate},
		{"PATCH", "/api/v1/templates/{id}", editor, s.patchTemplate},
		{"DELETE", "/api/v1/templates/{id}", editor, s.deleteTemplate},
		{"POST", "/api/v1/templates/{id}/submit", editor, s.submitTemplate},
		{"POST", "/api/v1/templates/{id}/approve", admin, s.approveOwnTemplate},
		{"POST", "/api/v1/templates/{id}/reject", admin, s.rejectOwnTemplate},
		{"POST", "/api/v1/templates/{id}/test", editor, s.sendTestTemplate},
		{"GET", "/api/v1/template-gallery", viewer, s.templateGallery},
		{"GET", "/api/v1/operator/templates", operator, s.templateQueue},
		{"POST", "/api/v1/operator/templates/{id}/approve", operator, s.approveTemplate},
		{"POST", "/api/v1/operator/templates/{id}/reject", operator, s.rejectTemplate},

		{"POST", "/api/v1/events", editor, s.postEvent},
		{"POST", "/api/v1/events/batch", editor, s.postEventBatch},
		{"GET", "/api/v1/automations", viewer, s.listAutomations},
		{"POST", "/api/v1/automations", editor, s.createAutomation},
		{"GET", "/api/v1/automations/{id}", viewer, s.getAutomation},
		{"PATCH", "/api/v1/automations/{id}", editor, s.patchAutomation},
		{"DELETE", "/api/v1/automations/{id}", editor, s.deleteAutomation},
		{"POST", "/api/v1/automations/{id}/publish", editor, s.publishAutomation},
		{"POST", "/api/v1/automations/{id}/enable", editor, s.enableAutomation},
		{"POST", "/api/v1/automations/{id}/disable", editor, s.disableAutomation},
		{"GET", "/api/v1/automations/{id}/runs", viewer, s.listAutomationRuns},

		{"GET", "/api/v1/webhooks", viewer, s.listWebhooks},
		{"POST", "/api/v1/webhooks", admin, s.createWebhook},
		{"GET", "/api/v1/webhooks/{id}", viewer, s.getWebhook},
		{"PATCH", "/api/v1/webhooks/{id}", admin, s.patchWebhook},
		{"DELETE", "/api/v1/webhooks/{id}", admin, s.deleteWebhook},
		{"POST", "/api/v1/webhooks/{id}/rotate-secret", admin, s.rotateWebhookSecret},
		{"GET", "/api/v1/webhooks/{id}/deliveries", viewer, s.listWebhookDeliveries},
		{"POST", "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", admin, s.redeliverWebhook},

		{"GET", "/api/v1/sim/inbox", viewer, s.simInbox},
		{"POST", "/api/v1/sim/reply", editor, s.simReply},

		{"GET", "/api/v1/inbound", viewer, s.listInbound},
		{"GET", "/api/v1/contacts/{id}/conversation", viewer, s.conversation},
		{"GET", "/api/v1/settings/replies", viewer, s.getReplies},
		{"PUT", "/api/v1/settings/replies", admin, s.putReplies},
		{"GET", "/api/v1/settings/enrollment", viewer, s.getEnrollSettings},
		{"PUT", "/api/v1/settings/enrollment", admin, s.putEnrollSettings},
		{"GET", "/api/v1/settings/marketing", viewer, s.getMarketingSettings},
		{"PUT", "/api/v1/settings/marketing", admin, s.putMarketingSettings},
		{"GET", "/api/v1/settings/countries", viewer, s.getCountrySettings},
		{"PUT", "/api/v1/settings/countries", admin, s.putCountrySettings},

		{"POST", "/webhooks/twilio/status", carrier, s.twilioStatus},
		{"POST", "/webhooks/twilio/inbound", carrier, s.twilioInbound},

		{"GET", "/api/v1/operator/accounts", operator, s.listAccounts},
		{"PUT", "/api/v1/operator/accounts/{id}", operator, s.configureAccount},
		{"GET", "/api/v1/operator/usage", operator, s.operatorUsage},
		{"POST", "/api/v1/operator/accounts", operator, s.createAccount},
		{"GET", "/api/v1/operator/accounts/{id}", operator, s.getAccountAsOperator},
	}
}
