// The dashboard's reads and writes: Vertex's v1 REST API, plus /tuneyard/v1/ for what it lacks.
// The browser sends the sign-in cookie by itself; requests that change something add the
// X-Tuneyard-Request header the server asks of cookie-authenticated writes.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(method, path, params) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-Tuneyard-Request"] = "dashboard";
  const response = await fetch(url, { method, headers, credentials: "same-origin" });
  const text = await response.text();
  let body = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { error: { message: text } };
  }
  if (!response.ok) {
    const error = body.error || {};
    if (response.status === 401) window.location.assign("/");
    throw new ApiError(response.status, error.status || "UNKNOWN", error.message || response.statusText);
  }
  return body;
}

export const listLocations = () => call("GET", "/tuneyard/v1/locations");

export const listJobs = (parent, { filter, pageToken, pageSize = 50 } = {}) =>
  call("GET", `/v1/${parent}/hyperparameterTuningJobs`, { filter, pageToken, pageSize });

export const getJob = (name) => call("GET", `/v1/${name}`);

export const cancelJob = (name) => call("POST", `/v1/${name}:cancel`);

export const deleteJob = (name) => call("DELETE", `/v1/${name}`);

export const jobProgress = (parent, ids) =>
  ids.length
    ? call("GET", `/tuneyard/v1/${parent}/hyperparameterTuningJobs:batchGetProgress`, { ids: ids.join(",") })
    : Promise.resolve({ progress: [] });

export const trialLogs = (jobName, trialId, maxBytes = 32768) =>
  call("GET", `/tuneyard/v1/${jobName}/trials/${encodeURIComponent(trialId)}/logs`, { maxBytes });
