<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>{{title}}</title>
  <link rel="icon" href="{{asset('favicon.svg')}}" type="image/svg+xml">
  <link rel="stylesheet" href="{{asset('chat.css')}}">
  % if get('import_map'):
  <script type="importmap">{{!import_map}}</script>
  % end
  % for url in get('preload', ()):
  <link rel="modulepreload" href="{{url}}">
  % end
  % for module in get('modules', ()):
  <script type="module" src="{{asset(module)}}"></script>
  % end
</head>
<body>
{{!base}}
</body>
</html>
