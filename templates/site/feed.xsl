<?xml version="1.0" encoding="utf-8"?>
<!-- Shows feed.xml (RSS 2.0) and atom.xml (Atom 1.0) as a readable page when opened in a browser. -->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom">
  <xsl:output method="html" encoding="utf-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="rss/channel/title | atom:feed/atom:title"/>
    <xsl:variable name="home" select="rss/channel/link | atom:feed/atom:link[not(@rel) or @rel='alternate']/@href"/>
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content="light dark"/>
        <title><xsl:value-of select="$title"/> (feed)</title>
        <style>
          body { font: 1rem/1.6 system-ui, sans-serif; max-width: 42rem; margin: 0 auto; padding: 1rem; }
          .about { background: #f1eee6; padding: 0.75rem 1rem; border-radius: 4px; }
          @media (prefers-color-scheme: dark) { body { background: #141416; color: #ecebe8; } .about { background: #1e1e22; } a { color: #ff8a80; } }
          li { margin: 0.75rem 0; }
          small { color: #888; display: block; }
        </style>
      </head>
      <body>
        <p class="about">This is a web feed. Copy its address into a feed reader (NetNewsWire, Feedly, newsboat…) to get every new article as it is published.</p>
        <h1><xsl:value-of select="$title"/></h1>
        <p><xsl:value-of select="rss/channel/description | atom:feed/atom:subtitle"/></p>
        <p><a href="{$home}">Visit the site</a></p>
        <ul>
          <xsl:for-each select="rss/channel/item">
            <li><a href="{link}"><xsl:value-of select="title"/></a><small><xsl:value-of select="pubDate"/></small></li>
          </xsl:for-each>
          <xsl:for-each select="atom:feed/atom:entry">
            <li>
              <a href="{atom:link[not(@rel) or @rel='alternate']/@href}">
                <xsl:choose>
                  <xsl:when test="atom:title/@type = 'html'"><xsl:call-template name="text-of-html"><xsl:with-param name="html" select="atom:title"/></xsl:call-template></xsl:when>
                  <xsl:otherwise><xsl:value-of select="atom:title"/></xsl:otherwise>
                </xsl:choose>
              </a>
              <small><xsl:value-of select="substring(atom:published, 1, 10)"/></small>
            </li>
          </xsl:for-each>
        </ul>
      </body>
    </html>
  </xsl:template>

  <!-- The text an Atom title of type="html" stands for: the title as escaped HTML (R&amp;amp;D), its entities read. -->
  <xsl:template name="text-of-html">
    <xsl:param name="html"/>
    <xsl:choose>
      <xsl:when test="contains($html, '&amp;')">
        <xsl:value-of select="substring-before($html, '&amp;')"/>
        <xsl:variable name="rest" select="substring-after($html, '&amp;')"/>
        <xsl:variable name="entity" select="substring-before($rest, ';')"/>
        <xsl:choose>
          <xsl:when test="$entity = 'amp'">&amp;</xsl:when>
          <xsl:when test="$entity = 'lt'">&lt;</xsl:when>
          <xsl:when test="$entity = 'gt'">&gt;</xsl:when>
          <xsl:when test="$entity = 'quot'">"</xsl:when>
          <xsl:when test="$entity = '#39' or $entity = 'apos'">'</xsl:when>
          <xsl:otherwise>&amp;<xsl:value-of select="$entity"/>;</xsl:otherwise>
        </xsl:choose>
        <xsl:call-template name="text-of-html"><xsl:with-param name="html" select="substring-after($rest, ';')"/></xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$html"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
