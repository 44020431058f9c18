"""The Scrapy side of nianbao: settings, items, middlewares, pipelines, and the command line."""
