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

		{"GET", "/api/v1/operator/accounts", operator, s.listAccounts},
		{"POST", "/api/v1/operator/accounts", operator, s.createAccount},
		{"GET", "/api/v1/operator/accounts/{id}", operator, s.getAccountAsOperator},
	}
}
