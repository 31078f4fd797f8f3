package dev.metaflow.kestra.server.api;

import io.kestra.core.http.HttpRequest;
import io.kestra.core.http.HttpResponse;
import io.kestra.core.models.flows.Flow;
import io.kestra.core.repositories.FlowRepositoryInterface;
import io.kestra.core.services.WebhookService;
import io.kestra.plugin.core.trigger.AbstractWebhookTrigger;
import io.kestra.plugin.core.trigger.WebhookContext;
import io.micronaut.context.ApplicationContext;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code /executions/webhook/{namespace}/{id}/{key}}: finds the flow's webhook
 * trigger whose rendered key matches (the trigger itself does not check it),
 * then lets the trigger evaluate the request and answers what it answers.
 */
final class WebhookApi {
    private final FlowRepositoryInterface flows;
    private final WebhookService webhookService;

    WebhookApi(ApplicationContext context) {
        this.flows = context.getBean(FlowRepositoryInterface.class);
        this.webhookService = context.getBean(WebhookService.class);
    }

    void register(ApiServer api) {
        String path = "/api/v1/{tenant}/executions/webhook/{namespace}/{id}/{key}";
        for (String method : List.of("GET", "POST", "PUT")) {
            api.add(method, path, this::webhook);
        }
    }

    private Response webhook(Request request) throws Exception {
        Flow flow = flows.findById(request.tenant(), request.path("namespace"), request.path("id"))
            .orElseThrow(() -> ApiException.notFound("Flow not found"));
        if (flow.isDisabled()) {
            throw ApiException.illegalState("Flow is disabled");
        }
        AbstractWebhookTrigger trigger = matchingTrigger(flow, request.path("key"))
            .orElseThrow(() -> ApiException.notFound("Webhook not found"));
        HttpRequest httpRequest = HttpRequest.builder()
            .method(request.method())
            .uri(URI.create("http://localhost" + request.rawUri()))
            .body(HttpRequest.StringRequestBody.builder().content(request.bodyText()).build())
            .build();
        HttpResponse<?> answer = trigger.evaluate(WebhookContext.builder()
            .request(httpRequest)
            .flow(flow)
            .trigger(trigger)
            .webhookService(webhookService)
            .build()).block();
        if (answer == null) {
            throw ApiException.notFound("No execution triggered");
        }
        int status = answer.getStatus().getCode();
        Object body = answer.getBody();
        if (body == null) {
            return new Response(status, null, new byte[0]);
        }
        return body instanceof String text ? Response.text(status, "text/plain", text) : Response.json(status, body);
    }

    private Optional<AbstractWebhookTrigger> matchingTrigger(Flow flow, String key) throws Exception {
        if (flow.getTriggers() == null) {
            return Optional.empty();
        }
        for (var trigger : flow.getTriggers()) {
            if (trigger instanceof AbstractWebhookTrigger webhook && !webhook.isDisabled()) {
                String rendered = webhookService.runContext(flow, webhook).render(webhook.getKey());
                if (key.equals(rendered)) {
                    return Optional.of(webhook);
                }
            }
        }
        return Optional.empty();
    }
}
