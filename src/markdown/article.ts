import type { ArticleMeta } from "../content/article.js";
import { absoluteUrl, paths } from "../content/paths.js";
import type { EmailImage } from "../issues/images.js";
import type { RenderedBody } from "./render.js";

/** A published article: identity, metadata and its rendered body, with the URLs every output uses. */
export interface Article extends ArticleMeta {
  body: RenderedBody;
  /** Site path of the article page, e.g. "articles/my-story/". */
  path: string;
  /** Absolute URL of the article page. */
  url: string;
  /** Summary from the front matter, else the body's excerpt. */
  description: string;
  /** Quick Reads: from the front matter, else from the body's section; empty when neither has any. */
  points: string[];
  /** Absolute URL of the article's image. */
  imageUrl?: string;
  /** How the email shows the article's image (a project with a newsletter). */
  emailImage?: EmailImage;
  /** How a full-text email shows the local pictures in the body, by the URL its email HTML loads each from (see emailBody). */
  emailBodyImages?: Record<string, EmailImage>;
}

/** Joins an article's metadata and rendered body. */
export function toArticle(meta: ArticleMeta, body: RenderedBody, siteUrl: string, imageSitePath?: string): Article {
  const path = paths.article(meta.slug);
  const article: Article = {
    ...meta,
    body,
    path,
    url: absoluteUrl(path, siteUrl),
    description: meta.summary ?? body.excerpt,
    points: meta.keyPoints ?? body.keyPoints ?? [],
  };
  if (imageSitePath !== undefined) article.imageUrl = absoluteUrl(imageSitePath, siteUrl);
  return article;
}
