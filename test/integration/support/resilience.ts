import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';

/** Every operation kind the resilience features treat differently: safe, idempotent with a body, neither. */
export const RESILIENCE_OPENAPI = `openapi: 3.0.3
info: { title: resilience, version: '1' }
security: [{}]
paths:
  /items:
    get:
      operationId: listItems
      responses: { '200': { description: ok } }
    post:
      operationId: createItem
      responses: { '201': { description: created } }
  /items/{id}:
    parameters:
      - { name: id, in: path, required: true, schema: { type: string } }
    get:
      operationId: getItem
      responses: { '200': { description: ok } }
    put:
      operationId: putItem
      responses: { '200': { description: ok } }
    patch:
      operationId: patchItem
      responses: { '200': { description: ok } }
    delete:
      operationId: deleteItem
      responses: { '204': { description: deleted } }
`;

/** One upstream `backend` with `upstream` YAML lines under it, and the test API with `api` lines. */
export async function resilientGateway(url: string, upstream: string, api = ''): Promise<TestGateway> {
  return startTestGateway({
    config: `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
log:
  access:
    destination: \${dir}/access.log
upstreams:
  backend:
    url: ${url}
${upstream}
apis:
  test:
    openapi: openapi.yaml
    upstream: backend
${api}
`,
    files: { 'openapi.yaml': RESILIENCE_OPENAPI },
  });
}
