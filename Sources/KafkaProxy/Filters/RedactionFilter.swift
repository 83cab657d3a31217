/// Credentials in responses (SaslAuthenticate auth bytes, delegation-token HMACs) never reach the
/// capture; the client still gets them. Absent under `--keep-credentials`.
struct RedactionFilter: ResponseFilter {
    func wants(_ api: ResponseInFlight.API?) -> Bool {
        guard let api else { return false }
        return CredentialRedactor.needsRedaction(apiKey: api.key, direction: false)
    }

    func filter(_ response: inout ResponseInFlight, _ connection: ProxyConnection) {
        guard let p = response.pending else { return }
        response.captured = CredentialRedactor.redactResponse(response.frame, apiKey: p.apiKey, apiVersion: p.apiVersion)
        response.flags.insert(.redacted)
    }
}
