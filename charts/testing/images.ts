/**
 * What the images the chart runs contain, so that a test can tell whether a container starts an
 * executable its image has. No image can be pulled or built here: for third-party images the
 * facts come from the files that build them, each cited; for our own images they are read from
 * our Dockerfiles.
 *
 * @module
 */

import { ROOT } from "./helm.ts";

/** The executables of an image that a container may start. */
export interface ImageContents {
  /** Absolute paths of the executables (only those a pod of ours could start). */
  executables: string[];
  /** The image's ENTRYPOINT, what runs when a container sets no `command`. */
  entrypoint: string[];
}

/** Facts about a third-party image, with where each was read. */
interface ThirdPartyImage extends ImageContents {
  /** Repository, without tag. */
  repository: string;
  /** Tags the facts hold for. */
  tags: RegExp;
  /** Where the facts were read. */
  sources: string[];
}

/** Third-party images: add a row, with its sources, before a template uses another image. */
export const THIRD_PARTY_IMAGES: ThirdPartyImage[] = [
  {
    repository: "registry.k8s.io/kubectl",
    tags: /^v1\.37\.\d+$/,
    executables: ["/bin/kubectl", "/go-runner"],
    entrypoint: ["/bin/kubectl"],
    sources: [
      // COPY ${BINARY} /bin/ and ENTRYPOINT ["/bin/kubectl"], FROM ${BASEIMAGE}.
      "kubernetes/kubernetes v1.37.2 build/server-image/kubectl/Dockerfile",
      // KUBECTL_BASE_IMAGE: kubectl is static, so its base is KUBE_GORUNNER_IMAGE,
      // registry.k8s.io/build-image/go-runner:v2.4.0-go1.26.10-bookworm.0.
      "kubernetes/kubernetes v1.37.2 build/common.sh",
      // go-runner: FROM ${DISTROLESS_IMAGE} (gcr.io/distroless/static-debian12 for bookworm),
      // COPY go-runner to /, nothing else added.
      "kubernetes/release images/build/go-runner/Dockerfile and Makefile",
      // distroless static: ca-certificates, an /etc/passwd root entry, /tmp, tzdata; no shell.
      "GoogleContainerTools/distroless base/README.md (static image contents)",
    ],
  },
  {
    repository: "docker.io/library/postgres",
    tags: /^1[5-8](\.\d+)*-alpine(3\.\d+)?$/,
    // /bin/sh is Alpine's busybox; bash is added with the run dependencies; psql is installed
    // under /usr/local by `make install-world-bin`.
    executables: [
      "/bin/sh",
      "/bin/bash",
      "/usr/local/bin/psql",
      "/usr/local/bin/docker-entrypoint.sh",
    ],
    entrypoint: ["docker-entrypoint.sh"],
    sources: ["docker-library/postgres 18/alpine3.23/Dockerfile (FROM alpine:3.23)"],
  },
];

/** Our own images: repository (as in values.yaml) and the Dockerfile that builds it. */
export const OWN_IMAGES: Record<string, string> = {
  "iot/consumer": "consumer/Dockerfile",
  "iot/producer": "producer/Dockerfile",
  "iot/api": "api/Dockerfile",
};

/**
 * Reads an image's contents from one of our Dockerfiles: the destinations of the final stage's
 * COPY instructions and its ENTRYPOINT.
 *
 * @param dockerfile Path relative to the repository root.
 * @returns The executables and the entrypoint.
 */
export function ownImageContents(dockerfile: string): ImageContents {
  const text = Deno.readTextFileSync(`${ROOT}/${dockerfile}`).replace(/\\\n/g, " ");
  const finalStage = text.split(/^FROM /m).at(-1)!;
  const executables = [...finalStage.matchAll(/^COPY\s+(?:--\S+\s+)*\S+\s+(\/\S+)\s*$/gm)]
    .map((m) => m[1]);
  const entrypoint = finalStage.match(/^ENTRYPOINT\s+(\[.*\])\s*$/m);
  if (!entrypoint) throw new Error(`${dockerfile}: no ENTRYPOINT in the final stage`);
  return { executables, entrypoint: JSON.parse(entrypoint[1]) };
}

/**
 * Splits an image reference into repository and tag (a digest, `@sha256:...`, is dropped).
 *
 * @param image e.g. `registry.k8s.io/kubectl:v1.37.0`.
 */
export function splitImage(image: string): { repository: string; tag: string } {
  const [name] = image.split("@");
  const colon = name.lastIndexOf(":");
  if (colon > name.lastIndexOf("/")) {
    return { repository: name.slice(0, colon), tag: name.slice(colon + 1) };
  }
  return { repository: name, tag: "latest" };
}

/**
 * What an image contains, as far as the facts above know.
 *
 * @param image Image reference as rendered (registry, repository, tag).
 * @returns Its contents, or an error naming what to add to the table.
 */
export function imageContents(image: string): ImageContents | Error {
  const { repository, tag } = splitImage(image);
  for (const [own, dockerfile] of Object.entries(OWN_IMAGES)) {
    if (repository === own || repository.endsWith(`/${own}`)) return ownImageContents(dockerfile);
  }
  const known = THIRD_PARTY_IMAGES.find((i) => i.repository === repository && i.tags.test(tag));
  if (known) return known;
  return new Error(
    `no facts about ${image}: add a row to THIRD_PARTY_IMAGES (charts/testing/images.ts) with the files it was read from`,
  );
}

/** A container as rendered. */
export interface RenderedContainer {
  name: string;
  image: string;
  command?: string[];
}

/**
 * Checks that a container starts an executable its image has.
 *
 * @param container The rendered container.
 * @returns What is wrong, or nothing.
 */
export function missingExecutable(container: RenderedContainer): string | undefined {
  const contents = imageContents(container.image);
  if (contents instanceof Error) return `${container.name}: ${contents.message}`;
  const executable = container.command?.[0] ?? contents.entrypoint[0];
  if (!executable.startsWith("/")) {
    // A bare name is looked up on the image's PATH; the images' own ENTRYPOINTs may do it.
    const found = contents.executables.some((e) => e.endsWith(`/${executable}`));
    if (container.command || !found) {
      return `${container.name}: "${executable}" is not an absolute path to one of ${
        contents.executables.join(", ")
      }`;
    }
    return undefined;
  }
  if (!contents.executables.includes(executable)) {
    return `${container.name}: ${container.image} has no ${executable} (it has ${
      contents.executables.join(", ")
    })`;
  }
  return undefined;
}
